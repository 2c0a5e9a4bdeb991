"""The scale benchmark's parts (``python manage.py benchmark``, docs/scaling.md).

- ``pages``: the table of pages the benchmark loads and counts queries on (add a row to
  cover a new page);
- ``loadgen``: a bounded HTTP load generator for loopback (asyncio, or ``wrk`` when installed);
- ``figures``: the measured figures and their baselines (metrics job against one SQL
  ``GROUP BY``, import against ``COPY``, query counts);
- ``views``/``urls``: the bare view (the framework's ceiling), mounted at ``/bench/`` only
  when the setting ``ACADEMY_BENCH_VIEWS`` is true.
"""
