"""Importing staff and enrolments: HR spreadsheets (CSV/XLSX) and ILR XML files.

- ``reading``: files to rows (type sniffing, encodings, Excel cells, UK dates).
- ``spreadsheet``: staff list rows to learners and enrolments.
- ``ilr``: ILR learners and learning deliveries to learners, enrolments and EPA results.
- ``pipeline``: check (preview) and apply, shared by the pages, the tasks and the
  ``import_enrolments`` command.
"""
