"""PDF downloads of signed documents, drawn by WeasyPrint from an HTML template.

WeasyPrint needs Pango (Debian: ``libpango-1.0-0 libpangoft2-1.0-0``; the Dockerfile
installs them). Where it cannot load, ``response`` says so with a 503 page rather than a
500, and the HTML page of the document stays available to print.
"""
from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string


def available() -> str | None:
    """Return ``None`` when WeasyPrint can draw PDFs here, else the reason it cannot."""
    try:
        import weasyprint  # noqa: F401  (loads Pango through cffi)
    except (ImportError, OSError) as error:  # pragma: no cover - depends on the machine
        return f"WeasyPrint cannot load here ({error.__class__.__name__}: {error})"
    return None


def render_pdf(template: str, context: dict) -> bytes:
    """Return the PDF bytes of ``template`` rendered with ``context`` (no request: no user data leaks in)."""
    import weasyprint

    html = render_to_string(template, context)
    return weasyprint.HTML(string=html).write_pdf()


def response(request: HttpRequest, template: str, context: dict, *, filename: str) -> HttpResponse:
    """Return ``template`` as a PDF attachment named ``filename``, or a 503 page saying why not."""
    reason = available()
    if reason is not None:  # pragma: no cover - depends on the machine
        return render(request, "documents/pdf_unavailable.html", {"reason": reason}, status=503)
    result = HttpResponse(render_pdf(template, context), content_type="application/pdf")
    result["Content-Disposition"] = f'attachment; filename="{filename}"'
    return result
