"""The bare view: the ceiling of Django under the same gunicorn, middleware and sign-in."""
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpResponse


@login_required
def bare(request):
    """Return ``ok`` after one trivial query (``SELECT 1``): what a page costs before its own work.

    Signed in like every page (session and user are loaded by the middleware), so the
    ratio page ÷ bare measures the page's own queries and rendering. Mounted only when
    ``ACADEMY_BENCH_VIEWS`` is true (``academy/urls.py``).
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return HttpResponse("ok", content_type="text/plain")
