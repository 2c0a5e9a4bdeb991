"""Browser tests: Debian's Chromium driven by Playwright for Python (no browser download).

Skipped with a clear reason when ``/usr/bin/chromium`` (or ``CHROMIUM_PATH``) or the
playwright package is missing; under CI a missing browser fails instead (``.ci/run``
installs Chromium with apt-get first). Pages are served by pytest-django's
``live_server`` on the test database, filled with the demo academy.

Screenshots go to ``artifacts/screenshots/`` (desktop 1280×900 and mobile 375×812); the
README's three are cropped into ``artifacts/screenshots/readme/`` and, with
``UPDATE_README_SCREENSHOTS=1``, copied to ``docs/screenshots/``.
Accessibility: axe-core (vendored at ``static/vendor/axe-core/axe.min.js``) is injected
into each page and must report no violations for WCAG 2.0/2.1/2.2 A and AA rules.
"""
import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from tests.services import skip_or_fail

# Playwright's sync API runs an event loop in this thread; the ORM calls made by the test
# itself (creating data, reading results) are safe because nothing else uses the loop.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = Path(settings.BASE_DIR) / "artifacts" / "screenshots"
README_SCREENSHOTS = Path(settings.BASE_DIR) / "docs" / "screenshots"
README_HEIGHT = 1100
PASSWORD = "browser-test-passphrase-2026"
DESKTOP = {"width": 1280, "height": 900}
MOBILE = {"width": 375, "height": 812}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    """A headless Chromium for the whole session (skips, or fails under CI, when missing)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("needs the playwright package (pip install -r requirements-dev.txt)")
    if not (shutil.which(CHROMIUM) or Path(CHROMIUM).exists()):
        skip_or_fail(f"needs Chromium at {CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)")
    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def demo(transactional_db, settings):
    """The demo academy in the test database, with a known password for every demo user."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    call_command("load_reference_data", verbosity=0)
    call_command("seed_demo", password=PASSWORD, verbosity=0)
    call_command("recompute_metrics", verbosity=0)
    return {"password": PASSWORD}


class Visitor:
    """A signed-in (or anonymous) browser page with helpers for the checks every page gets."""

    def __init__(self, page, base_url):
        self.page = page
        self.base_url = base_url
        self.console_errors = []
        # With the address, so a failed load says what failed ("… 404 (Not Found) (http://…/x.woff2)").
        page.on("console", lambda m: self.console_errors.append(f"{m.text} ({m.location.get('url', '')})")
                if m.type == "error" else None)
        page.on("pageerror", lambda e: self.console_errors.append(str(e)))

    def go(self, path):
        response = self.page.goto(self.base_url + path)
        self.page.wait_for_load_state("networkidle")
        return response

    def sign_in(self, email, password=PASSWORD):
        self.go("/accounts/login/")
        self.page.fill("input[name=login]", email)
        self.page.fill("input[name=password]", password)
        self.page.click("button[type=submit]")
        self.page.wait_for_load_state("networkidle")

    def axe_violations(self):
        """Run axe-core on the current page; return its violations (id, impact, help, nodes)."""
        # Loaded from our own static files, so the strict CSP (script-src 'self') allows it.
        self.page.add_script_tag(url=f"{self.base_url}{settings.STATIC_URL}vendor/axe-core/axe.min.js")
        return self.page.evaluate(
            """async () => {
                const r = await axe.run(document, {runOnly: {type: 'tag',
                    values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}});
                return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
            }"""
        )

    def screenshot(self, name, *, readme=None):
        """Save desktop and mobile full-page screenshots of the current URL as artifacts.

        The desktop one is of the page as it is now; the mobile one loads the same URL
        in a second tab of the same browser context (same sign-in), so this page and
        its open details are left as they were.

        ``readme`` (e.g. "dashboard") also saves the top 1280×``README_HEIGHT`` pixels of
        the desktop page, without the keyboard focus ring, as
        ``artifacts/screenshots/readme/<readme>.png``; with ``UPDATE_README_SCREENSHOTS=1``
        in the environment it is copied to ``docs/screenshots/`` for the README too.
        """
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}-desktop.png"), full_page=True)
        if readme:
            (ARTIFACTS / "readme").mkdir(parents=True, exist_ok=True)
            crop = ARTIFACTS / "readme" / f"{readme}.png"
            self.page.evaluate("() => document.activeElement && document.activeElement.blur()")
            self.page.screenshot(path=str(crop), full_page=True,
                                 clip={"x": 0, "y": 0, "width": DESKTOP["width"], "height": README_HEIGHT})
            if os.environ.get("UPDATE_README_SCREENSHOTS"):
                README_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(crop, README_SCREENSHOTS / f"{readme}.png")
        mobile = self.page.context.new_page()
        try:
            mobile.set_viewport_size(MOBILE)
            mobile.goto(self.page.url)
            mobile.wait_for_load_state("networkidle")
            mobile.screenshot(path=str(ARTIFACTS / f"{name}-mobile.png"), full_page=True)
        finally:
            mobile.close()


@pytest.fixture
def visitor(browser, live_server):
    """Return a function that opens a new browser context and returns a ``Visitor``."""
    contexts = []

    def open_visitor():
        context = browser.new_context(viewport=DESKTOP, locale="en-GB", timezone_id="Europe/London",
                                      accept_downloads=True)
        contexts.append(context)
        return Visitor(context.new_page(), live_server.url)

    yield open_visitor
    for context in contexts:
        context.close()
