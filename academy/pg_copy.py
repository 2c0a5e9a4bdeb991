"""PostgreSQL ``COPY`` through psycopg 3, for bulk reads and writes at scale, logged as Django logs its queries.

Every statement run here is added to Django's query log (when it is on), so query counts
(``CaptureQueriesContext``, the benchmark) include the ``COPY``s. Table and column names
come from model metadata or constants, never from input.
"""
from __future__ import annotations

import io
import time
from collections.abc import Iterable


class logged_query:
    """Record a statement run on the raw psycopg cursor in ``connection``'s query log, as Django's cursor would."""

    def __init__(self, connection, sql: str):
        self.connection, self.sql = connection, sql

    def __enter__(self):
        self.start = time.monotonic()
        return self

    def __exit__(self, *exc):
        if self.connection.queries_logged:
            self.connection.queries_log.append({"sql": self.sql, "time": f"{time.monotonic() - self.start:.3f}"})
        return False


def copy_in(connection, cursor, *, table: str, columns: Iterable[str], rows: Iterable) -> None:
    """``COPY table (columns) FROM STDIN``: write ``rows`` (sequences of values in ``columns`` order, adapted by psycopg).

    ``cursor`` is a Django cursor of ``connection``; names are quoted with the backend's rules.
    """
    quote = connection.ops.quote_name
    statement = f"COPY {quote(table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    with logged_query(connection, statement), cursor.cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def copy_out_csv(connection, sql: str, params) -> bytes:
    """Return the rows of ``sql`` (with ``params``) as CSV bytes from ``COPY (sql) TO STDOUT`` (b"" for no rows)."""
    statement = f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)"
    buffer = io.BytesIO()
    with connection.cursor() as cursor, logged_query(connection, statement):
        with cursor.cursor.copy(statement, params) as copy:
            for block in copy:
                buffer.write(block)
    return buffer.getvalue()
