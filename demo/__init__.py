"""Demo and benchmark tools: the demo academy, synthetic scale data and the scale benchmark.

- ``demo.seed``: the deterministic demo academy (``python manage.py seed_demo``);
- ``demo.scale``: a synthetic academy of any size (``python manage.py generate_scale``);
- ``demo.bench``: the scale benchmark's parts (``python manage.py benchmark``) and its
  bare view, mounted at ``/bench/`` only when ``ACADEMY_BENCH_VIEWS`` is true;
- ``benchmark_import``: the staff import measured against a bulk insert.

This app sits on top of the product apps (``academy``, ``cohorts``, ``learners``,
``outcomes``): it may import any of them, and no product app imports it, so the product
runs unchanged without it.
"""
