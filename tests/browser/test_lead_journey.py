"""An apprenticeship lead imports a staff list, fixes an error row, enrols two learners and records a break.

The whole journey runs in Chromium against the live server: every page visited passes
axe-core (WCAG 2.2 A/AA) with no console errors (a CSP violation is a console error),
and the main pages are screenshotted at desktop and mobile widths. A second test does
the core of the journey with the keyboard alone and checks the focus is visible on
every control it lands on.
"""
import datetime as dt
import re

from django.utils import timezone

from academy.models import Team
from cohorts.models import Enrolment
from learners.models import Learner

HEADERS = "Employee number,First name,Last name,Work email,ULN,Team\n"
NEW_STAFF = [
    ("700101", "Niamh", "Okonjo", "niamh.okonjo@council.example.org", "7700000106", "Finance"),
    ("700102", "Tariq", "Bellamy", "tariq.bellamy@council.example.org", "12345", "ICT"),  # bad ULN
    ("700103", "Ruth", "Castellano", "ruth.castellano@council.example.org", "", "Libraries"),
]
COHORT = "Data Analyst L4 — March 2025"


def _csv(rows) -> str:
    return HEADERS + "".join(",".join(row) + "\n" for row in rows)


def _uk(day: dt.date) -> str:
    return f"{day:%d/%m/%Y}"


def _long(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def _check(v, title_part):
    """The checks every page gets: a descriptive title, no axe violations, no console errors."""
    assert title_part in v.page.title(), v.page.title()
    assert v.page.title().endswith("– Academy")
    assert v.axe_violations() == [], v.page.url
    assert v.console_errors == [], v.console_errors


def _click(v, locator):
    locator.click()
    v.page.wait_for_load_state("networkidle")


def _upload(v, path):
    v.page.set_input_files("input[name=file]", str(path))
    _click(v, v.page.get_by_role("button", name="Upload and check"))
    # With Celery in-process the check is done before the redirect; wait for the preview anyway.
    v.page.wait_for_selector("text=Checked")


def _choose(select, text):
    """Select the option of ``select`` whose text contains ``text``."""
    value = select.locator("option", has_text=text).first.get_attribute("value")
    select.select_option(value)


def _fill_enrolment(v):
    _choose(v.page.get_by_label("Cohort"), COHORT)
    _choose(v.page.get_by_label("Coach (optional)"), "Priya Shah")
    v.page.get_by_label("Planned off-the-job hours").fill("400")
    _click(v, v.page.get_by_role("button", name="Enrol", exact=True))
    return v.page.inner_text("main")


def _enrol_from_learner_page_with_a_blank_start(v, learner_name, employee_number):
    """From the learners list, open ``learner_name`` and enrol them on COHORT, clearing the start date."""
    v.go("/learners/")
    v.page.fill("input[name=q]", learner_name)
    _click(v, v.page.get_by_role("button", name="Apply filters"))
    _click(v, v.page.get_by_role("link", name=learner_name))
    _check(v, learner_name)
    _click(v, v.page.get_by_role("button", name="Enrol on a cohort"))
    _check(v, "Enrol a learner on a cohort")
    today = timezone.localdate()
    start = v.page.get_by_label("Start date (optional)")
    assert start.input_value() == _uk(today)  # the form shows today, never the cohort's start
    start.fill("")
    main = _fill_enrolment(v)
    assert f"{learner_name} was enrolled on {COHORT}, starting {_long(today)}" in main
    assert "is before today" not in main
    return Enrolment.objects.get(learner__employee_number=employee_number, cohort__name=COHORT)


def _enrol_by_lookup_from_the_cohorts_start(v, typed, learner_name, employee_number):
    """From the enrolments list, find the learner by typing part of their name in the lookup."""
    v.go("/enrolments/new/")
    _check(v, "Enrol a learner on a cohort")
    lookup = v.page.get_by_label("Learner", exact=True)
    lookup.fill(typed)
    option = v.page.get_by_role("option", name=re.compile(learner_name))
    option.wait_for()
    v.screenshot("enrol-lookup")
    option.click()
    assert lookup.input_value() == f"{learner_name} ({employee_number}, ICT)"
    v.page.get_by_label("Start date (optional)").fill("17/03/2025")
    main = _fill_enrolment(v)
    assert f"{learner_name} was enrolled on {COHORT}, starting 17 March 2025" in main
    assert "The start date, 17 March 2025, is before today" in main
    return Enrolment.objects.get(learner__employee_number=employee_number, cohort__name=COHORT)


def test_lead_imports_staff_fixes_an_error_enrols_and_records_a_break(visitor, demo, tmp_path):
    v = visitor()
    v.sign_in("lead@example.org")
    _click(v, v.page.get_by_role("link", name="Import", exact=True))
    assert v.page.url.endswith("/imports/")
    _check(v, "Import staff and enrolments")
    v.screenshot("import-upload")

    # 1. Upload a staff list with a bad ULN: the preview names the row, the column and the reason.
    bad = tmp_path / "new-staff.csv"
    bad.write_text(_csv(NEW_STAFF), encoding="utf-8")
    _upload(v, bad)
    errors = v.page.locator("table", has=v.page.locator("caption", has_text="Rows with errors"))
    assert errors.locator("tbody tr").count() == 1
    row = errors.locator("tbody tr").first
    assert row.locator("th").inner_text() == "Row 3"
    assert "Tariq Bellamy" in row.inner_text()
    assert re.search(r"ULN: .*10 digits", row.inner_text()), row.inner_text()
    _check(v, "new-staff.csv")
    v.screenshot("import-preview-errors")

    # 2. Fix it: cancel this import, correct the ULN in the file and upload it again.
    _click(v, v.page.get_by_role("button", name="Cancel this import"))
    assert "Import cancelled. Nothing was imported." in v.page.inner_text("main")
    assert not Learner.objects.filter(employee_number__in=["700101", "700102", "700103"]).exists()
    fixed_rows = [r if r[0] != "700102" else (*r[:4], "7700000203", r[5]) for r in NEW_STAFF]
    fixed = tmp_path / "new-staff-fixed.csv"
    fixed.write_text(_csv(fixed_rows), encoding="utf-8")
    _upload(v, fixed)
    main = v.page.inner_text("main")
    assert "Checked 3 rows: 3 new" in main, main
    assert "Rows with errors" not in main
    _check(v, "new-staff-fixed.csv")

    # 3. Confirm: the result page counts what was imported.
    _click(v, v.page.get_by_role("button", name="Import these rows"))
    v.page.wait_for_selector("text=Import complete")
    assert "Imported: 3 new" in v.page.inner_text(".govuk-panel")
    _check(v, "new-staff-fixed.csv")
    v.screenshot("import-done")
    assert Learner.objects.get(employee_number="700102").uln == "7700000203"

    # 4. Enrol two of the new learners on a cohort.
    first = _enrol_from_learner_page_with_a_blank_start(v, "Niamh Okonjo", "700101")
    _check(v, "Niamh Okonjo on " + COHORT)
    second = _enrol_by_lookup_from_the_cohorts_start(v, "tariq bel", "Tariq Bellamy", "700102")
    _check(v, "Tariq Bellamy on " + COHORT)
    assert {first.status, second.status} == {Enrolment.Status.ACTIVE}
    planned_end = second.planned_end_date
    assert _long(planned_end) in v.page.inner_text(".govuk-summary-list")
    v.screenshot("enrolment")

    # 5. Start a break in learning eight weeks ago and end it four days ago: the planned end
    #    date moves by the 56 days of the break.
    today = timezone.localdate()
    started, returned = today - dt.timedelta(days=60), today - dt.timedelta(days=4)
    _click(v, v.page.get_by_role("button", name="Start a break in learning"))
    _check(v, "Start a break in learning – Tariq Bellamy")
    v.page.get_by_label("Date the break started").fill(_uk(started))
    v.page.get_by_label("Reason for the break").fill("Secondment to the elections team, agreed with the employer.")
    _click(v, v.page.get_by_role("button", name="Record the break"))
    assert f"Tariq Bellamy is on a break in learning from {_long(started)}." in v.page.inner_text(
        ".govuk-notification-banner")
    assert "Break in learning" in v.page.inner_text("main .govuk-tag")
    _check(v, "Tariq Bellamy on " + COHORT)
    v.screenshot("enrolment-on-break")

    _click(v, v.page.get_by_role("button", name="Return from a break in learning"))
    _check(v, "Return from a break in learning – Tariq Bellamy")
    assert f"The planned end date is now {_long(planned_end)}." in v.page.inner_text("main")
    v.page.get_by_label("Date the learner returned").fill(_uk(returned))
    _click(v, v.page.get_by_role("button", name="Record the return"))
    moved = planned_end + dt.timedelta(days=56)
    assert (
        f"Tariq Bellamy is back in learning. The planned end date moved by 56 days to {_long(moved)}."
        in v.page.inner_text(".govuk-notification-banner")
    )
    planned_row = v.page.locator(".govuk-summary-list__row", has_text="Planned end date")
    assert planned_row.locator("dd").inner_text() == _long(moved)
    _check(v, "Tariq Bellamy on " + COHORT)
    v.screenshot("enrolment-after-break", readme="enrolment")
    second.refresh_from_db()
    assert second.planned_end_date == moved and second.status == Enrolment.Status.ACTIVE


# --- Keyboard only ---------------------------------------------------------------------

# What the focused element looks like: GOV.UK's focus indicator is the yellow #ffdd00
# (outline, background or box-shadow), on the element or, for the hidden inputs of
# GOV.UK checkboxes and radios, on its label's ::before box.
FOCUS_JS = """() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const yellow = 'rgb(255, 221, 0)';
    const shows = (cs) => (cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0
                           && cs.outlineColor === yellow)
        || cs.backgroundColor === yellow || cs.boxShadow.includes(yellow);
    let visible = shows(getComputedStyle(el));
    if (!visible && el.labels && el.labels.length) {
        visible = shows(getComputedStyle(el.labels[0], '::before'))
            || shows(getComputedStyle(el.labels[0], '::after'));
    }
    const label = el.labels && el.labels.length ? el.labels[0].innerText.trim() : '';
    const field = ['input', 'select', 'textarea'].includes(el.tagName.toLowerCase());
    return {tag: el.tagName.toLowerCase(), text: field ? '' : (el.innerText || '').trim().split('\\n')[0],
            label: label, name: el.getAttribute('name') || '', visible: visible};
}"""


class Keyboard:
    """Drive a page with the keyboard alone, checking the focus is visible on every stop."""

    def __init__(self, page):
        self.page = page
        self.stops = 0

    def focused(self):
        return self.page.evaluate(FOCUS_JS)

    def tab_to(self, *, text=None, label=None, limit=150):
        """Press Tab until the focused control has this text (links, buttons) or label (fields).

        Past the last control focus leaves the page (to the browser's own controls) and
        the next Tab starts again from the top, as for a real keyboard user; that may
        happen once.
        """
        seen, wrapped = [], False
        for _ in range(limit):
            self.page.keyboard.press("Tab")
            now = self.focused()
            if now is None:
                assert not wrapped, f"went round the whole page without reaching {text or label!r}: {seen}"
                wrapped = True
                continue
            self.stops += 1
            assert now["visible"], f"no visible focus on {now}"
            seen.append(now["text"] or now["label"])
            if (text is not None and now["text"] == text) or (label is not None and now["label"].startswith(label)):
                return now
        raise AssertionError(f"never reached {text or label!r} by Tab; went through {seen}")

    def activate(self, key="Enter"):
        """Press ``key`` on the focused link or button and wait for the page it opens."""
        with self.page.expect_navigation():
            self.page.keyboard.press(key)
        self.page.wait_for_load_state("networkidle")

    def type(self, text):
        self.page.keyboard.type(text)

    def choose(self, option_start):
        """Choose the option of the focused <select> whose text starts with ``option_start`` (arrow keys)."""
        for _ in range(30):
            current = self.page.evaluate(
                "() => document.activeElement.options[document.activeElement.selectedIndex].text")
            if current.startswith(option_start):
                return current
            self.page.keyboard.press("ArrowDown")
        raise AssertionError(f"no option starting {option_start!r}")


def test_lead_enrols_a_learner_and_starts_a_break_with_the_keyboard_only(visitor, demo):
    learner = Learner.objects.create(
        employee_number="700200", first_name="Keir", last_name="Adeyemi", work_email="keir.adeyemi@council.example.org",
        team=Team.objects.get(name="Finance"),
    )
    v = visitor()
    kb = Keyboard(v.page)
    v.go("/accounts/login/")

    kb.tab_to(label="Email")
    kb.type("lead@example.org")
    kb.tab_to(label="Password")
    kb.type(demo["password"])
    kb.tab_to(text="Sign in")
    kb.activate()
    assert "Sign in" not in v.page.title()

    kb.tab_to(text="Learners")
    kb.activate()
    kb.tab_to(label="Search")
    kb.type("Keir Adeyemi")
    kb.tab_to(text="Apply filters")
    kb.activate("Space")
    kb.tab_to(text="Keir Adeyemi")
    kb.activate()
    assert v.page.url.endswith(f"/learners/{learner.pk}/")

    kb.tab_to(text="Enrol on a cohort")
    kb.activate("Space")  # a link styled as a button: GOV.UK's button module makes Space work too
    kb.tab_to(label="Cohort")
    assert kb.choose(COHORT).startswith(COHORT)
    kb.tab_to(label="Start date (optional)")
    v.page.keyboard.press("Control+A")  # the field shows today: replace it with the cohort's start
    kb.type("17/03/2025")
    kb.tab_to(label="Planned off-the-job hours")
    kb.type("400")
    kb.tab_to(text="Enrol")
    kb.activate()
    assert "Keir Adeyemi was enrolled on " + COHORT in v.page.inner_text(".govuk-notification-banner")
    assert v.axe_violations() == []

    started = timezone.localdate() - dt.timedelta(days=35)
    kb.tab_to(text="Start a break in learning")
    kb.activate()
    kb.tab_to(label="Date the break started")
    kb.type(_uk(started))
    kb.tab_to(label="Reason for the break")
    kb.type("Long-term illness; break agreed with the employer, intends to return.")
    kb.tab_to(text="Record the break")
    kb.activate("Space")
    assert f"Keir Adeyemi is on a break in learning from {_long(started)}." in v.page.inner_text(
        ".govuk-notification-banner")
    enrolment = Enrolment.objects.get(learner=learner)
    assert enrolment.status == Enrolment.Status.BREAK_IN_LEARNING
    assert kb.stops > 10
    assert v.console_errors == []
