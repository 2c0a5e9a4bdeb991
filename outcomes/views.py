"""Dashboard views (stub; built by the metrics work)."""
from django.http import HttpResponse
from academy.decorators import perm_required


@perm_required("academy.view_dashboard")
def dashboard(request):
    return HttpResponse("dashboard")


@perm_required("academy.export_dashboard")
def export_csv(request):
    return HttpResponse("", content_type="text/csv")
