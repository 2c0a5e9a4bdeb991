"""Exports of the dashboard: tables as CSV/XLSX, charts as PNG, the board report. Mounted at /dashboard/exports/."""
from django.urls import path

from . import export_views, report_views

app_name = "exports"
urlpatterns = [
    path("", export_views.index, name="index"),
    path("board-report/", report_views.board_report, name="board_report"),
    path("chart/<slug:name>.png", export_views.chart, name="chart"),
    path("<slug:name>.<slug:fmt>", export_views.table, name="table"),
]
