"""Dashboards: the pages a head of data reads, their charts and downloads, the board report and the API.

The top product layer: it reads outcomes (snapshots, benchmarks, impact) and everything
below; nothing imports it (docs/architecture.md).
"""
