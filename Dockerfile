# Academy: one image for the web server (gunicorn), the Celery worker and Celery beat.
# Build: docker build -t academy .   (docker-compose.yml builds and runs it with PostgreSQL and Redis)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Pango and its fonts for WeasyPrint (the signed plans' and reviews' PDFs: coaching/pdf.py).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-liberation \
    && rm -rf /var/lib/apt/lists/*

# Dependencies first, so code changes reuse this layer. All pins have manylinux wheels
# (psycopg[binary] included), so no compiler is needed.
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .

# Static files are collected at build time. The key is a throwaway used only by this
# step; at run time settings refuse to start without a real SECRET_KEY.
RUN SECRET_KEY=build-only-collectstatic-key-never-used-at-run-time python manage.py collectstatic --noinput \
    && useradd --create-home --uid 10001 --user-group academy \
    && chown -R academy:academy /app/staticfiles

USER academy

EXPOSE 8000
CMD ["gunicorn", "academy.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
