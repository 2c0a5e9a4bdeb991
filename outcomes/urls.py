from django.urls import path

from . import views

app_name = "outcomes"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("export.csv", views.export_csv, name="export_csv"),
    path("recompute/", views.recompute, name="recompute"),
    path("benchmarks/", views.benchmark_list, name="benchmark_list"),
    path("benchmarks/new/", views.benchmark_create, name="benchmark_create"),
]
