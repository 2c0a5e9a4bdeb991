"""``python manage.py benchmark [--learners N]``: Academy at national size, measured (docs/scaling.md).

Needs PostgreSQL (``DATABASE_URL``, whose server is used: the benchmark never touches
that database itself) and Redis (``CELERY_BROKER_URL``, or ``redis://127.0.0.1:6379``).
It works in databases of its own, ``academy_bench_<N>`` and ``academy_bench_<small>``
on the same server, created, migrated and filled by ``generate_scale`` when missing or
of another size (``--regenerate`` forces it), and kept for the next run.

Prints one line per figure, ``name value unit``, and one line per figure with a baseline,
``ratio NAME VALUE`` (the figure divided by its baseline); a figure that cannot be measured
yet prints ``name not available: reason``. Lines starting with ``#`` are context. With
``-v 2`` it also prints the SQL of each page and the metrics job with PostgreSQL's
``EXPLAIN (ANALYZE, BUFFERS)`` plans.
"""
from __future__ import annotations

import http.client
import os
import platform
import socket
import subprocess
import sys
import time
from urllib.parse import quote, urlsplit

import django
import gunicorn
import pandas
import psycopg
import redis
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import Resolver404, resolve

from academy.changes import bump_generation
from academy.models import User
from cohorts.models import Enrolment
from demo.bench import figures, loadgen
from demo.bench.pages import BARE, PAGES
from demo.management.commands.generate_scale import ProgressBar
from demo.scale import HEAD_EMAIL, LEAD_EMAIL, generate_scale
from learners.models import Learner

SMALL_DEFAULT = 1_000
TARGETS = {
    "metrics_ratio": 3.0,
    "metrics_seconds": 10.0,
    "dashboard_share_of_bare": 0.40,
    "dashboard_p95_ms": 150.0,
    "import_rows_per_s": 2_000.0,
}


def _label(n: int) -> str:
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)


class Command(BaseCommand):
    help = "Measure Academy at scale on PostgreSQL + Redis: metrics job, pages under gunicorn, import, query counts."

    def add_arguments(self, parser):
        parser.add_argument("--learners", type=int, default=100_000, help="Learners in the large academy (100,000).")
        parser.add_argument("--small", type=int, default=SMALL_DEFAULT,
                            help="Learners in the small academy for query counts (1,000).")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--duration", type=float, default=15.0, help="Seconds of load per page (15).")
        parser.add_argument("--concurrency", type=int, default=8, help="Concurrent clients (8).")
        parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (2).")
        parser.add_argument("--import-rows", type=int, default=10_000)
        parser.add_argument("--repeat", type=int, default=3, help="Runs of each timed job; the median is shown.")
        parser.add_argument("--regenerate", action="store_true", help="Rebuild the benchmark databases.")
        parser.add_argument("--skip-load", action="store_true", help="Skip the gunicorn load tests.")
        parser.add_argument("--load-only", action="store_true",
                            help="Only the gunicorn load tests (no metrics job, import or query counts).")
        parser.add_argument("--pages", default="",
                            help="Comma-separated page names to load (e.g. dashboard,coach_page); default: all.")
        parser.add_argument("--loadgen", choices=("auto", "wrk", "asyncio"), default="auto",
                            help="Load generator: wrk when installed (auto), or the built-in asyncio one.")

    # --- output ------------------------------------------------------------------------
    def figure(self, name, value, unit, fmt="{:.3g}"):
        self.values[name] = value
        text = fmt.format(value) if isinstance(value, float) else str(value)
        self.stdout.write(f"{name} {text} {unit}")
        self.stdout.flush()

    def missing(self, name, reason):
        self.stdout.write(f"{name} not available: {reason}")
        self.stdout.flush()

    def note(self, text):
        self.stdout.write(f"# {text}")
        self.stdout.flush()

    def detail(self, text):
        if self.verbosity >= 2:
            self.stdout.write(text)

    # --- services and databases -------------------------------------------------------------
    def check_services(self) -> str:
        db = settings.DATABASES["default"]
        if "postgresql" not in db["ENGINE"]:
            raise CommandError(
                "The benchmark needs PostgreSQL: run it with DATABASE_URL=postgres://postgres@127.0.0.1:5432/"
                "academy_bench (only the server is used; it works in databases named academy_bench_<N>)."
            )
        try:
            psycopg.connect(**self.pg_params("postgres"), connect_timeout=3).close()
        except Exception as exc:
            raise CommandError(f"The benchmark needs PostgreSQL, which is not reachable: {exc}") from exc
        redis_url = os.environ.get("BENCH_REDIS_URL") or settings.CELERY_BROKER_URL or "redis://127.0.0.1:6379/0"
        try:
            redis.Redis.from_url(redis_url, socket_timeout=3).ping()
        except Exception as exc:
            raise CommandError(
                f"The benchmark needs Redis ({redis_url}), which is not reachable: {exc}. "
                "Start redis-server or set CELERY_BROKER_URL."
            ) from exc
        base = redis_url.rsplit("/", 1)[0] if urlsplit(redis_url).path.strip("/").isdigit() else redis_url.rstrip("/")
        return f"{base}/14"  # a Redis database of the benchmark's own

    def pg_params(self, dbname: str) -> dict:
        db = settings.DATABASES["default"]
        params = {"dbname": dbname, "host": db.get("HOST") or "127.0.0.1", "port": int(db.get("PORT") or 5432),
                  "user": db.get("USER") or "postgres"}
        if db.get("PASSWORD"):
            params["password"] = db["PASSWORD"]
        return params

    def database_url(self, dbname: str) -> str:
        p = self.pg_params(dbname)
        auth = quote(p["user"]) + (f":{quote(p['password'])}" if "password" in p else "")
        return f"postgres://{auth}@{p['host']}:{p['port']}/{dbname}"

    def use_database(self, name: str) -> None:
        connections.close_all()
        settings.DATABASES["default"]["NAME"] = name
        connections["default"].settings_dict["NAME"] = name

    def admin_sql(self, sql: str) -> list:
        with psycopg.connect(**self.pg_params("postgres"), autocommit=True) as admin:
            cur = admin.execute(sql)
            return cur.fetchall() if cur.description else []

    def ensure_database(self, learners: int, *, seed: int, regenerate: bool) -> str:
        """Return the name of a benchmark database holding exactly ``learners`` synthetic learners."""
        name = f"academy_bench_{learners}"
        # bandit B608: the database name is built from an int, not from input.
        exists = bool(self.admin_sql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'"))  # nosec B608
        if exists and not regenerate:
            self.use_database(name)
            call_command("migrate", verbosity=0, interactive=False)
            if User.objects.filter(email=LEAD_EMAIL).exists() and Learner.objects.count() == learners:
                self.note(f"database {name}: reused (synthetic academy of {learners:,} learners; --regenerate rebuilds it)")
                return name
        connections.close_all()
        self.admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.admin_sql(f'CREATE DATABASE "{name}"')
        self.use_database(name)
        call_command("migrate", verbosity=0, interactive=False)
        call_command("load_reference_data", verbosity=0)
        bar = ProgressBar()
        started = time.perf_counter()
        try:
            counts = generate_scale(learners=learners, seed=seed, progress=bar)
        finally:
            bar.close()
        self.figure(f"generate_scale_{_label(learners)}", time.perf_counter() - started, "s")
        self.note(f"database {name}: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
        return name

    # --- users and pages -----------------------------------------------------------------------
    def actors(self) -> dict:
        """Return the signed-in test clients, cookies and ids to fill page paths."""
        first = Enrolment.objects.filter(coach__isnull=False).order_by("coach_id", "id").first()
        users = {"lead": User.objects.get(email=LEAD_EMAIL), "head": User.objects.get(email=HEAD_EMAIL),
                 "coach": first.coach}
        clients, cookies = {}, {}
        for role, user in users.items():
            client = Client()
            client.force_login(user)
            clients[role] = client
            cookies[role] = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
        return {"users": users, "clients": clients, "cookies": cookies,
                "ids": {"learner_id": first.learner_id, "enrolment_id": first.id}}

    def path_for(self, page, ids) -> tuple[str | None, str]:
        """Return (path, "") for the first of ``page.paths`` that resolves, else (None, reason)."""
        for candidate in page.paths:
            path = candidate.format(**ids)
            try:
                resolve(urlsplit(path).path)
            except Resolver404:
                continue
            return path, ""
        return None, f"no URL yet ({', '.join(page.paths)} do not resolve)"

    def count_queries(self, label: str, *, explain: bool) -> dict[str, int]:
        actors = self.actors()
        counts = {}
        for page in PAGES:
            figure = f"queries_{page.name}_{label}"
            path, reason = self.path_for(page, actors["ids"])
            if path is None:
                self.missing(figure, reason)
                continue
            client = actors["clients"][page.role]
            try:
                figures.page_queries(client, path)  # warm caches (templates, sessions) once
                # A new dashboard generation: cached dashboard bodies are not used, so the page
                # is counted as built (what could grow with the data); served from the cache
                # is counted separately below.
                bump_generation()
                status, queries, size = figures.page_queries(client, path)
                cached = figures.page_queries(client, path)[1] if page.cached else None
            except Exception as exc:  # another issue's page in progress must not stop the run
                connection.close()
                self.missing(figure, f"GET {path} raised {type(exc).__name__}: {exc}"[:300])
                continue
            if status != 200:
                self.missing(figure, f"GET {path} as {page.role} returned {status}")
                continue
            counts[page.name] = len(queries)
            db_ms = sum(float(q["time"]) for q in queries) * 1000
            self.figure(figure, len(queries), "queries")
            self.note(f"{page.name} {path} as {page.role}: {len(queries)} queries, {db_ms:.1f} ms in SQL, "
                      f"{size:,} bytes")
            if cached is not None:
                self.figure(f"queries_{page.name}_cached_{label}", len(cached), "queries")
                self.note(f"{page.name} served from the dashboard cache: {len(cached)} queries, "
                          f"{sum(float(q['time']) for q in cached) * 1000:.1f} ms in SQL")
            if explain:
                self.explain_queries(f"{page.name} ({path})", queries)
        return counts

    def explain_queries(self, title: str, queries: list[dict]) -> None:
        if self.verbosity < 2:
            return
        self.detail(f"\n## SQL of {title}")
        for i, query in enumerate(queries, 1):
            sql = query["sql"]
            self.detail(f"\n-- query {i}, {float(query['time']) * 1000:.1f} ms\n{sql}")
            if sql.lstrip().upper().startswith("SELECT"):
                try:
                    self.detail(figures.explain(sql))
                except Exception as exc:  # a plan that cannot be shown must not stop the run
                    connection.close()
                    self.detail(f"(EXPLAIN failed: {exc})")

    # --- gunicorn --------------------------------------------------------------------------
    def start_gunicorn(self, dbname: str, redis_url: str, workers: int) -> tuple[subprocess.Popen, int]:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = os.environ.copy()
        env.update({
            "DATABASE_URL": self.database_url(dbname),
            "SECRET_KEY": settings.SECRET_KEY,
            "DEBUG": "0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "0",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "SECURE_HSTS_SECONDS": "0",
            "CONN_MAX_AGE": "600",
            "REDIS_CACHE_URL": redis_url,
            "CELERY_BROKER_URL": redis_url,
            "ACADEMY_BENCH_VIEWS": "1",
            "LOG_LEVEL": "WARNING",
        })
        env.pop("SECRET_KEY_FILE", None)
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "academy.wsgi:application", "--workers", str(workers),
             "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "--timeout", "120"],
            cwd=settings.BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=sys.stderr,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise CommandError("gunicorn exited at start: see the messages above.")
            try:
                self.http_status(port, "/bench/bare/", "")
                return process, port
            except OSError:
                time.sleep(0.5)
        process.terminate()
        raise CommandError("gunicorn did not answer within 60 s.")

    @staticmethod
    def http_status(port: int, path: str, cookie: str) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            conn.request("GET", path, headers={"Cookie": cookie, "Accept": "text/html,application/json"})
            response = conn.getresponse()
            response.read()
            return response.status
        finally:
            conn.close()

    def load_pages(self, dbname: str, redis_url: str, options) -> None:
        actors = self.actors()  # sessions must exist in the database gunicorn reads
        tool = options["loadgen"]
        if tool == "wrk" and not loadgen.wrk_available():
            raise CommandError("wrk is not installed: apt-get install -y wrk, or use --loadgen asyncio.")
        use_wrk = tool == "wrk" or (tool == "auto" and loadgen.wrk_available())
        self.note(f"load: gunicorn --workers {options['workers']} (sync) on 127.0.0.1, {options['concurrency']} "
                  f"concurrent clients, {options['duration']:.0f} s per page after a 2 s warm-up, generator "
                  f"{'wrk' if use_wrk else 'asyncio (wrk is not installed)'}; one request per connection")
        wanted = {name.strip() for name in options["pages"].split(",") if name.strip()}
        unknown = wanted - {p.name for p in PAGES if p.load}
        if unknown:
            raise CommandError(f"--pages: no loaded page named {', '.join(sorted(unknown))}.")
        for page in (BARE, *[p for p in PAGES if p.load and (not wanted or p.name in wanted)]):
            path, reason = (page.paths[0], "") if page is BARE else self.path_for(page, actors["ids"])
            if path is None:
                self.missing(f"{page.name}_rps", reason)
                continue
            # A fresh server per page: a slow page's queued requests never delay the next page.
            process, port = self.start_gunicorn(dbname, redis_url, options["workers"])
            try:
                self.load_one(page, path, port, actors["cookies"][page.role], use_wrk, options)
            finally:
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()

    def load_one(self, page, path: str, port: int, cookie: str, use_wrk: bool, options) -> None:
        try:
            status = self.http_status(port, path, cookie)
        except OSError as exc:
            self.missing(f"{page.name}_rps", f"GET {path} as {page.role} under gunicorn failed: {exc}")
            return
        if status != 200:
            self.missing(f"{page.name}_rps", f"GET {path} as {page.role} under gunicorn returned {status}")
            return
        url = f"http://127.0.0.1:{port}{path}"
        run = loadgen.run_wrk if use_wrk else loadgen.run_load
        result = run(url, cookie=cookie, concurrency=options["concurrency"], duration_s=options["duration"])
        self.figure(f"{page.name}_rps", result.rps, "req/s", "{:.1f}")
        if not result.requests:
            self.missing(f"{page.name}_p95", f"no request completed in {options['duration']:.0f} s "
                         f"(each request times out after 10 s; {result.errors} failed)")
            return
        self.figure(f"{page.name}_p95", result.p95_ms, "ms", "{:.1f}")
        self.figure(f"{page.name}_p50", result.p50_ms, "ms", "{:.1f}")
        if result.errors:
            self.note(f"{page.name}: {result.errors} failed requests")

    # --- the run ------------------------------------------------------------------------
    def machine(self) -> None:
        model = "unknown CPU"
        try:
            for line in open("/proc/cpuinfo"):
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
            mem = next(line for line in open("/proc/meminfo") if line.startswith("MemTotal"))
            mem_gib = int(mem.split()[1]) / 1024 / 1024
        except OSError:
            mem_gib = 0
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            pg_version = cursor.fetchone()[0]
            cursor.execute("SHOW shared_buffers")
            shared_buffers = cursor.fetchone()[0]
        self.note(f"machine: {os.cpu_count()} CPUs ({model}), {mem_gib:.0f} GiB memory, {platform.platform()}")
        self.note(f"software: Python {platform.python_version()}, Django {django.get_version()}, "
                  f"PostgreSQL {pg_version} (shared_buffers {shared_buffers}), gunicorn {gunicorn.__version__}, "
                  f"pandas {pandas.__version__}")
        self.load_average()

    def load_average(self) -> None:
        """Note the machine's load average: other work on the same cores skews every figure."""
        one, five, fifteen = os.getloadavg()
        self.note(f"load average {one:.2f} {five:.2f} {fifteen:.2f} (1, 5, 15 min) on {os.cpu_count()} CPUs"
                  + ("; the machine is busy with other work, so figures are pessimistic" if five > 1.5 else ""))

    def handle(self, *args, **options):
        self.verbosity = options["verbosity"]
        self.values = {}
        redis_url = self.check_services()
        big, small = options["learners"], options["small"]
        big_label, small_label = _label(big), _label(small)
        self.note(f"Academy benchmark: {big:,} learners (queries also at {small:,}); databases academy_bench_<N>")

        small_counts, big_counts = {}, {}
        if not options["load_only"]:  # small academy first: query counts at its size
            self.ensure_database(small, seed=options["seed"], regenerate=options["regenerate"])
            self.machine()
            small_counts = self.count_queries(small_label, explain=False)

        big_db = self.ensure_database(big, seed=options["seed"], regenerate=options["regenerate"])
        if options["load_only"]:
            self.machine()
        else:
            self.metrics_figures(options["repeat"])
            self.import_figures(options["import_rows"])
            big_counts = self.count_queries(big_label, explain=True)
        if options["skip_load"]:
            self.missing("bare_rps", "--skip-load was given")
        else:
            self.load_pages(big_db, redis_url, options)

        # Ratios: each figure divided by its baseline.
        v = self.values
        if "metrics_job" in v and v.get("metrics_floor_sql"):
            self.stdout.write(f"ratio metrics_job {v['metrics_job'] / v['metrics_floor_sql']:.2f}")
        for page in PAGES:
            if page.load and v.get("bare_rps") and f"{page.name}_rps" in v:
                self.stdout.write(f"ratio {page.name}_rps {v[f'{page.name}_rps'] / v['bare_rps']:.2f}")
                if v.get(f"{page.name}_p95"):
                    self.stdout.write(f"ratio {page.name}_p95 {v[f'{page.name}_p95'] / v['bare_p95']:.2f}")
        if v.get("import_copy_rows_per_s") and "import_rows_per_s" in v:
            self.stdout.write(f"ratio import_rows_per_s {v['import_rows_per_s'] / v['import_copy_rows_per_s']:.4f}")
        for name, count in big_counts.items():
            if small_counts.get(name):
                self.stdout.write(f"ratio queries_{name}_{big_label} {count / small_counts[name]:.2f}")
        self.targets(small_counts, big_counts)
        self.load_average()

    def metrics_figures(self, repeat: int) -> None:
        figures.time_metrics_job(1)  # warm-up: imports, caches
        seconds, rows = figures.time_metrics_job(repeat)
        self.figure("metrics_job", seconds, "s")
        self.note(f"metrics job: {len(rows) - 1:,} cohorts + the all-cohorts row, median of {repeat} "
                  "(unchanged cohorts are not rewritten)")
        self.figure("metrics_job_rewrite_all", figures.time_metrics_rewrite(), "s")
        self.note("metrics job writing every snapshot (all deleted first, rolled back): a first run, or a change "
                  "touching every cohort")
        floor_seconds, floor_rows = figures.time_metrics_floor(repeat)
        self.figure("metrics_floor_sql", floor_seconds, "s")
        agree = figures.floor_agrees(floor_rows)
        same = all(a == b for a, b in agree.values())
        self.note("floor and job agree on " + ", ".join(f"{k} {a:,}" for k, (a, b) in agree.items())
                  if same else f"floor and job DISAGREE: {agree}")
        if self.verbosity >= 2:
            with CaptureQueriesContext(connection) as captured:
                figures.time_metrics_job(1)
            self.explain_queries("the metrics job", [q for q in captured.captured_queries
                                                     if q["sql"].lstrip().upper().startswith("SELECT")])
            self.detail("\n## The floor: one GROUP BY\n" + figures.explain(figures.FLOOR_SQL))

    def import_figures(self, count: int) -> None:
        reason = figures.import_available()
        if reason:
            self.missing("import_rows_per_s", reason)
            return
        rows = figures.import_rows(count)
        lead = User.objects.get(email=LEAD_EMAIL)
        try:
            seconds, counts = figures.time_import(rows, user=lead)
        except Exception as exc:  # the import is another issue's code: report, do not stop the run
            self.missing("import_rows_per_s", f"the import failed: {type(exc).__name__}: {exc}"[:400])
            return
        self.figure("import_s", seconds, "s")
        self.figure("import_rows_per_s", count / seconds, "rows/s", "{:.0f}")
        self.note(f"import counts: {counts} (rolled back)")
        copy_seconds = figures.time_copy(rows)
        self.figure("import_copy_s", copy_seconds, "s")
        self.figure("import_copy_rows_per_s", count / copy_seconds, "rows/s", "{:.0f}")

    def targets(self, small_counts, big_counts) -> None:
        v, t = self.values, TARGETS

        def verdict(ok):
            return "met" if ok else "MISSED"

        if "metrics_job" in v:
            ratio = v["metrics_job"] / v["metrics_floor_sql"]
            ok = ratio <= t["metrics_ratio"] and v["metrics_job"] < t["metrics_seconds"]
            self.note(f"target metrics job within 3x of the GROUP BY floor and under 10 s: {verdict(ok)} "
                      f"({ratio:.2f}x, {v['metrics_job']:.2f} s)")
        if "dashboard_rps" in v and v.get("bare_rps"):
            share = v["dashboard_rps"] / v["bare_rps"]
            p95 = v.get("dashboard_p95") or float("inf")
            ok = share >= t["dashboard_share_of_bare"] and p95 < t["dashboard_p95_ms"]
            self.note(f"target dashboard >= 40% of the bare view's req/s and p95 < 150 ms: {verdict(ok)} "
                      f"({share:.0%}, p95 {p95:.0f} ms)")
        if "import_rows_per_s" in v:
            ok = v["import_rows_per_s"] >= t["import_rows_per_s"]
            self.note(f"target import >= 2,000 rows/s: {verdict(ok)} ({v['import_rows_per_s']:.0f} rows/s)")
        if not big_counts:
            return
        differing = {k: (small_counts.get(k), n) for k, n in big_counts.items() if small_counts.get(k) != n}
        self.note(f"target query counts the same at both sizes: {verdict(not differing)}"
                  + (f" (differ: {differing})" if differing else ""))
