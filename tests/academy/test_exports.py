"""The one spreadsheet writer (``academy.exports``): typed cells, formula guarding, object rows, streaming."""
import csv
import datetime as dt
import io
from decimal import Decimal
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook

from academy.exports import (
    DATE, INT, MONEY, RATE, TEXT, Column, Table, guard_text, unguard_text, write_csv, write_xlsx,
)


# --- Writers --------------------------------------------------------------------------


def test_it_guards_text_against_formula_injection():
    assert [guard_text(v) for v in ("=1+1", "+44", "-5", "@SUM(A1)", "\tx", "plain", None)] == [
        "'=1+1", "'+44", "'-5", "'@SUM(A1)", "'\tx", "plain", ""]


SAMPLE = Table(
    "sample",
    "Sample",
    [Column("name", "Name", TEXT), Column("when", "When", DATE), Column("n", "Count", INT),
     Column("rate", "Rate", RATE), Column("money", "Money", MONEY)],
    [["=HYPERLINK(\"http://evil\")", dt.date(2026, 11, 29), 3, 0.92, Decimal("3500000")],
     ["Plain", None, 0, None, None]],
    notes=["=not a formula either"],
)


def test_it_writes_csv_with_typed_cells():
    """Dates ISO, rates four decimals, money two, empty for None, text guarded."""
    rows = list(csv.reader(io.StringIO(write_csv(SAMPLE).decode("utf-8-sig"))))
    assert rows == [
        ["name", "when", "n", "rate", "money"],
        ["'=HYPERLINK(\"http://evil\")", "2026-11-29", "3", "0.9200", "3500000.00"],
        ["Plain", "", "0", "", ""],
    ]


def test_it_writes_xlsx_with_real_dates_numbers_and_string_text():
    sheet = load_workbook(io.BytesIO(write_xlsx(SAMPLE))).active
    assert [c.value for c in sheet[1]] == ["Name", "When", "Count", "Rate", "Money"]
    name, when, count, rate, money = sheet[2]
    # The text as written, a string cell (never a formula) with Excel's quote prefix: no visible apostrophe.
    assert name.value == "=HYPERLINK(\"http://evil\")" and name.data_type == "s" and name.quotePrefix
    assert when.value == dt.datetime(2026, 11, 29) and when.is_date and when.number_format == "DD/MM/YYYY"
    assert count.value == 3
    assert rate.value == pytest.approx(0.92) and rate.number_format == "0.0%"
    assert money.value == 3500000 and money.number_format == '"£"#,##0.00'
    assert [c.value for c in sheet[3]] == ["Plain", None, 0, None, None]
    assert sheet["A5"].value == "=not a formula either" and sheet["A5"].data_type == "s" and sheet["A5"].quotePrefix
    assert not sheet["A3"].quotePrefix  # plain text needs none




PEOPLE = [
    SimpleNamespace(name="-Ada", started=dt.date(2025, 9, 15), hours=Decimal("12.5"), note=None),
    SimpleNamespace(name="Grace", started=None, hours=3, note="@home"),
]
PEOPLE_COLUMNS = [
    Column("Name", value=lambda p: p.name),
    Column("Start date", value=lambda p: p.started),
    Column("Hours", value=lambda p: p.hours),
    Column("Note", value=lambda p: p.note),
]


def test_object_rows_are_read_by_each_column_and_written_by_type_in_csv():
    """List downloads: numbers stay numbers (a negative one too), dates ISO, text guarded, None empty."""
    table = Table("People", "People", PEOPLE_COLUMNS, iter(PEOPLE))
    rows = list(csv.reader(io.StringIO(write_csv(table).decode("utf-8-sig"))))
    assert rows == [
        ["Name", "Start date", "Hours", "Note"],
        ["'-Ada", "2025-09-15", "12.5", ""],
        ["Grace", "", "3", "'@home"],
    ]


def test_object_rows_stream_into_xlsx_with_real_dates_and_widths():
    table = Table("People", "People", PEOPLE_COLUMNS, iter(PEOPLE))
    workbook = load_workbook(io.BytesIO(write_xlsx(table)))
    sheet = workbook["People"]
    assert [c.value for c in sheet[1]] == ["Name", "Start date", "Hours", "Note"]
    name, started, hours, note = sheet[2]
    assert name.value == "-Ada" and name.data_type == "s" and name.quotePrefix
    assert started.value == dt.datetime(2025, 9, 15) and started.number_format == "DD/MM/YYYY"
    assert hours.value == pytest.approx(12.5) and hours.data_type == "n"
    assert note.value is None
    assert [c.value for c in sheet[3]] == ["Grace", None, 3, "@home"]
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["B"].width == 12  # "Start date" (10) + 2


def test_a_table_longer_than_the_width_sample_is_written_whole():
    columns = [Column("n", kind=INT)]
    rows = ([i] for i in range(450))
    sheet = load_workbook(io.BytesIO(write_xlsx(Table("n", "n", columns, rows)))).active
    assert sheet.max_row == 451 and sheet["A451"].value == 449


@pytest.mark.parametrize(("read", "kept"), [("'=1+1", "=1+1"), ("'-5", "-5"), ("'@home", "@home"),
                                            ("O'Brien", "O'Brien"), ("'quoted'", "'quoted'"), ("plain", "plain")])
def test_unguard_takes_off_only_the_downloads_own_apostrophe(read, kept):
    assert unguard_text(read) == kept
    assert unguard_text(guard_text(kept)) == kept
