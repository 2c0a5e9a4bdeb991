"""Load test for Academy: ``python -m tests.load.run`` (see ``tests/load/run.py``)."""
