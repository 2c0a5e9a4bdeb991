"""Benchmark-only URLs (namespace ``bench``), included only when ``ACADEMY_BENCH_VIEWS`` is true."""
from django.urls import path

from . import views

app_name = "bench"
urlpatterns = [path("bare/", views.bare, name="bare")]
