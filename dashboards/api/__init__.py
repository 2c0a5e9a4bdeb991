"""The read-only JSON API for tools such as Power BI (Django REST framework, drf-spectacular).

Endpoints under /api/: ``cohorts/``, ``enrolments/``, ``results/``, ``metrics/`` (lists,
paginated), ``schema/`` (OpenAPI 3) and ``token/`` (a page where a user manages their own
token). Authentication: ``Authorization: Token <key>`` (DRF ``TokenAuthentication``, one
token per user), or the signed-in session in a browser. Leads and heads of data may use
it; coaches get 403; a missing or invalid token 401. Enrolments and results name a
learner only by a stable pseudonym unless the token's user is an apprenticeship lead.
"""
