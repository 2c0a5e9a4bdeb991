"""Coaching: what happens on an enrolment between its start and its end.

One-to-one coaching sessions, progress reviews, off-the-job training, progress against
the plan, the risk rules, the coaches' reminders and the coach's pages. Sits above
``cohorts`` (a session happens on an enrolment) and below ``outcomes``.
"""
