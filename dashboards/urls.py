from django.urls import path

from . import views

app_name = "outcomes"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("benchmarks-by-standard/", views.dashboard_standards, name="dashboard_standards"),
    path("trends/", views.dashboard_trends, name="dashboard_trends"),
    path("teams/", views.dashboard_teams, name="dashboard_teams"),
    path("coaching/", views.dashboard_coaching, name="dashboard_coaching"),
    path("export.csv", views.export_csv, name="export_csv"),
    path("recompute/", views.recompute, name="recompute"),
    path("recompute/<str:run_id>/status/", views.recompute_status, name="recompute_status"),
    path("benchmarks/", views.benchmark_list, name="benchmark_list"),
    path("benchmarks/new/", views.benchmark_create, name="benchmark_create"),
    path("benchmarks/<int:pk>/edit/", views.benchmark_edit, name="benchmark_edit"),
    path("benchmarks/import/", views.benchmark_import, name="benchmark_import"),
    path("benchmarks/import/confirm/", views.benchmark_import_confirm, name="benchmark_import_confirm"),
]
