"""Load test: N virtual users browse and log coaching sessions on gunicorn for a bounded time.

    python -m tests.load.run [--users 50] [--duration 60] [--gunicorn-workers 3]

What it does (everything on loopback; ``.ci/run`` runs it in its "Reliability and load" step):

1. Builds a fresh PostgreSQL database (``--database``, default ``academy_load``, dropped and
   created on ``--pg``) with the demo academy: ``migrate``, ``load_reference_data``,
   ``seed_demo``; then ``collectstatic``. ``--reuse`` skips this for a database you built.
2. Starts gunicorn (``--gunicorn-workers`` sync workers) on a free loopback port, production
   settings (``DEBUG`` off) over plain http, Celery tasks sent to a Redis database
   (``--broker``, default ``redis://127.0.0.1:6379/12``; purged afterwards).
3. Runs ``--users`` threads for ``--duration`` seconds, each signed in through the real
   sign-in form (CSRF token from the page) as one of the demo users: 80 % coaches (the
   three demo coaches), 10 % heads of data, 10 % leads. A coach loops: coach home, one of
   their learners' pages, the "Log a coaching session" form (GET, CSRF token and default
   values from the page), POST with a unique topic ``load-<user>-<n>``. A head of data
   loops over the dashboard and its teams tab; a lead over the learners list, a learner's
   page and the enrolments list. ``--think`` seconds pause between requests (default 0.5).
4. Checks: no HTTP error (every response has the expected status: 200 for pages, 302 for
   a saved session; any other status, timeout or connection error counts), and no lost or
   duplicated write: the set of ``load-*`` session topics in the database equals the set
   of POSTs answered with a redirect.

Prints a summary (requests, errors, requests per second, latency percentiles per page,
sessions saved vs found) and exits 1 on any error or mismatch. Stops gunicorn on exit.
"""
from __future__ import annotations

import argparse
import collections
import datetime as dt
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from html.parser import HTMLParser
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "load-test-password"
COACHES = ("coach@example.org", "coach2@example.org", "coach3@example.org")
HEAD = "head@example.org"
LEAD = "lead@example.org"
TIMEOUT_S = 60


class FormValues(HTMLParser):
    """Collect the default values of the page's POST forms: ``[{"action", "values": {name: value}}]``."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"method": (a.get("method") or "get").lower(), "action": a.get("action") or "",
                               "values": {}})
        elif self.forms and tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("submit", "button"):
                return
            if kind in ("radio", "checkbox") and "checked" not in a:
                return
            self.forms[-1]["values"][a["name"]] = a.get("value") or ""
        elif self.forms and tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self.forms[-1]["values"][a["name"]] = ""

    def handle_data(self, data):
        if self._textarea:
            self.forms[-1]["values"][self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None


def main_form(html: str) -> dict[str, str]:
    """Return the default values of the page's largest POST form (the page's own form, not sign-out)."""
    parser = FormValues()
    parser.feed(html)
    forms = [f for f in parser.forms if f["method"] == "post"]
    if not forms:
        raise ValueError("no POST form on the page")
    return max(forms, key=lambda f: len(f["values"]))["values"]


class Stats:
    """Thread-safe counters: latencies per page, errors with examples, saved session topics."""

    def __init__(self):
        self.lock = threading.Lock()
        self.latency = collections.defaultdict(list)
        self.errors = collections.Counter()
        self.error_examples: list[str] = []
        self.saved_topics: set[str] = set()

    def record(self, page: str, seconds: float) -> None:
        with self.lock:
            self.latency[page].append(seconds)

    def error(self, page: str, what: str) -> None:
        with self.lock:
            self.errors[page] += 1
            if len(self.error_examples) < 20:
                self.error_examples.append(f"{page}: {what}")


class VirtualUser(threading.Thread):
    """One signed-in user looping over their pages until ``deadline`` (``time.monotonic``)."""

    def __init__(self, number: int, *, base: str, email: str, role: str, targets: dict, stats: Stats,
                 deadline: float, think: float):
        super().__init__(name=f"vu-{number}", daemon=True)
        self.number, self.base, self.email, self.role = number, base, email, role
        self.targets, self.stats, self.deadline, self.think = targets, stats, deadline, think
        self.http = requests.Session()
        self.posts = 0
        self.random = random.Random(number)

    def request(self, page: str, method: str, path: str, *, expect: int, data=None) -> requests.Response | None:
        start = time.monotonic()
        try:
            response = self.http.request(method, self.base + path, data=data, allow_redirects=False,
                                         timeout=TIMEOUT_S, headers={"Referer": self.base + path})
        except requests.RequestException as error:
            self.stats.error(page, f"{method} {path}: {type(error).__name__}: {error}")
            return None
        self.stats.record(page, time.monotonic() - start)
        if response.status_code != expect:
            self.stats.error(page, f"{method} {path}: HTTP {response.status_code} (expected {expect})")
            return None
        return response

    def sign_in(self) -> bool:
        page = self.request("sign-in form", "GET", "/accounts/login/", expect=200)
        if page is None:
            return False
        values = main_form(page.text)
        values.update({"login": self.email, "password": PASSWORD})
        return self.request("sign in", "POST", "/accounts/login/", expect=302, data=values) is not None

    def run(self) -> None:
        if not self.sign_in():
            return
        while time.monotonic() < self.deadline:
            getattr(self, f"loop_{self.role}")()

    def pause(self) -> None:
        time.sleep(self.think)

    def loop_coach(self) -> None:
        enrolment, learner = self.random.choice(self.targets[self.email])
        self.request("coach home", "GET", "/coach/", expect=200)
        self.pause()
        self.request("learner page", "GET", f"/learners/{learner}/", expect=200)
        self.pause()
        form_path = f"/coach/enrolments/{enrolment}/sessions/new/"
        page = self.request("session form", "GET", form_path, expect=200)
        if page is None or time.monotonic() >= self.deadline:
            return
        values = main_form(page.text)
        self.posts += 1
        topic = f"load-{self.number}-{self.posts}"
        values.update({"topics": topic, "duration_minutes": "45", "notes": "Load test session."})
        if self.request("log session", "POST", form_path, expect=302, data=values) is not None:
            with self.stats.lock:
                self.stats.saved_topics.add(topic)
        self.pause()

    def loop_head(self) -> None:
        self.request("dashboard", "GET", "/dashboard/", expect=200)
        self.pause()
        self.request("dashboard teams", "GET", "/dashboard/teams/", expect=200)
        self.pause()

    def loop_lead(self) -> None:
        _, learner = self.random.choice(self.targets["all"])
        self.request("learners list", "GET", "/learners/", expect=200)
        self.pause()
        self.request("learner page", "GET", f"/learners/{learner}/", expect=200)
        self.pause()
        self.request("enrolments list", "GET", "/enrolments/", expect=200)
        self.pause()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _manage(env: dict, *args: str, timeout: int = 600) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, timeout=timeout,
                   stdout=subprocess.DEVNULL)


def prepare(env: dict, *, pg: str, database: str) -> None:
    """Drop and create ``database``, migrate it and seed the demo (the demo users get ``PASSWORD``)."""
    with psycopg.connect(f"{pg}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{database}"')
    _manage(env, "migrate", "--noinput")
    _manage(env, "load_reference_data")
    _manage(env, "seed_demo", "--password", PASSWORD)


def targets(database_url: str) -> dict:
    """Return each demo coach's active (enrolment id, learner id) pairs, and all of them under "all"."""
    found = collections.defaultdict(list)
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT u.email, e.id, e.learner_id FROM cohorts_enrolment e JOIN academy_user u ON u.id = e.coach_id "
            "WHERE e.status = 'active' ORDER BY e.id"
        ).fetchall()
    for email, enrolment, learner in rows:
        found[email].append((enrolment, learner))
        found["all"].append((enrolment, learner))
    missing = [c for c in COACHES if not found[c]]
    if missing:
        raise SystemExit(f"no active enrolment for the demo coaches {missing}: is the demo loaded?")
    return found


def load_topics(database_url: str) -> list[str]:
    with psycopg.connect(database_url) as conn:
        return [row[0] for row in conn.execute(
            "SELECT topics FROM learners_coachingsession WHERE topics LIKE 'load-%'").fetchall()]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def run(args) -> int:
    database_url = f"{args.pg}/{args.database}"
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": database_url, "CELERY_BROKER_URL": args.broker, "DJANGO_SETTINGS_MODULE": "academy.settings",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "load-test-secret-key-not-for-production-0123456789abcdef",
        "DEBUG": "0", "ALLOWED_HOSTS": "127.0.0.1", "SECURE_SSL_REDIRECT": "0", "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0", "DEMO_PASSWORD": PASSWORD,
    })
    env.pop("REDIS_CACHE_URL", None)
    env.pop("CI", None)
    started = time.monotonic()
    if not args.reuse:
        print(f"Preparing {args.database}: migrate, reference data, demo ...", flush=True)
        prepare(env, pg=args.pg, database=args.database)
    _manage(env, "collectstatic", "--noinput")
    plan = targets(database_url)
    before = set(load_topics(database_url))
    print(f"Prepared in {time.monotonic() - started:.0f} s.", flush=True)

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = tempfile.NamedTemporaryFile(prefix="academy-load-gunicorn-", suffix=".log", delete=False)
    gunicorn = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "academy.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", str(args.gunicorn_workers), "--timeout", "60", "--graceful-timeout", "10"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(base + "/accounts/login/", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if gunicorn.poll() is not None or time.monotonic() > deadline:
                print(Path(log.name).read_text(errors="replace"))
                raise SystemExit("gunicorn did not start")
            time.sleep(0.3)

        stats = Stats()
        heads = max(1, args.users // 10)
        leads = max(1, args.users // 10)
        users = []
        deadline = time.monotonic() + args.duration
        for number in range(args.users):
            if number < heads:
                email, role = HEAD, "head"
            elif number < heads + leads:
                email, role = LEAD, "lead"
            else:
                email, role = COACHES[number % len(COACHES)], "coach"
            users.append(VirtualUser(number, base=base, email=email, role=role, targets=plan, stats=stats,
                                     deadline=deadline, think=args.think))
        print(f"Running {args.users} users ({heads} heads of data, {leads} leads, {args.users - heads - leads} "
              f"coaches) for {args.duration} s against gunicorn ({args.gunicorn_workers} workers) on {base} ...",
              flush=True)
        load_start = time.monotonic()
        for user in users:
            user.start()
        for user in users:
            user.join(timeout=args.duration + TIMEOUT_S + 30)
        elapsed = time.monotonic() - load_start
        stuck = [u.name for u in users if u.is_alive()]
    finally:
        gunicorn.send_signal(signal.SIGTERM)
        try:
            gunicorn.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(gunicorn.pid, signal.SIGKILL)
            gunicorn.wait(timeout=10)
        try:
            import redis

            redis.Redis.from_url(args.broker).delete("celery")  # the recomputes nobody runs here
        except Exception as error:  # noqa: BLE001 - cleanup only
            print(f"(could not purge {args.broker}: {error})")

    found = [t for t in load_topics(database_url) if t not in before]
    requests_made = sum(len(v) for v in stats.latency.values())
    errors = sum(stats.errors.values())
    print(f"\n{'page':<18} {'requests':>8} {'errors':>6} {'median ms':>9} {'p95 ms':>7} {'max ms':>7}")
    for page in sorted(set(stats.latency) | set(stats.errors)):
        values = stats.latency.get(page, [])
        print(f"{page:<18} {len(values):>8} {stats.errors[page]:>6} "
              f"{statistics.median(values) * 1000 if values else 0:>9.0f} {percentile(values, .95) * 1000:>7.0f} "
              f"{max(values, default=0) * 1000:>7.0f}")
    lost = stats.saved_topics - set(found)
    extra = set(found) - stats.saved_topics
    duplicated = len(found) - len(set(found))
    print(f"\n{requests_made} responses in {elapsed:.1f} s ({requests_made / elapsed:.1f}/s), {errors} errors; "
          f"sessions saved (302): {len(stats.saved_topics)}, found in the database: {len(found)} "
          f"(lost {len(lost)}, unexpected {len(extra)}, duplicated {duplicated}).")
    for example in stats.error_examples:
        print(f"  ERROR {example}")
    problems = []
    if errors:
        problems.append(f"{errors} HTTP errors")
    if lost or extra or duplicated:
        problems.append("lost or extra writes")
    if not stats.saved_topics:
        problems.append("no session was saved")
    if stuck:
        problems.append(f"users still running: {stuck[:5]}")
    if problems:
        print(f"\nLOAD TEST FAILED: {'; '.join(problems)} (gunicorn log: {log.name})")
        return 1
    Path(log.name).unlink(missing_ok=True)
    print("\nLOAD TEST PASSED")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60, help="seconds of load (default 60)")
    parser.add_argument("--gunicorn-workers", type=int, default=3)
    parser.add_argument("--think", type=float, default=0.5, help="seconds between a user's requests")
    parser.add_argument("--pg", default=os.environ.get("LOAD_PG", "postgres://postgres@127.0.0.1:5432"),
                        help="PostgreSQL server URL without a database name")
    parser.add_argument("--database", default="academy_load")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--reuse", action="store_true", help="use --database as it is (demo already loaded)")
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
