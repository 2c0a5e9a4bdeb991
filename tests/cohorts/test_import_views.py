"""Import pages: upload → progress → preview → skip/confirm → result, for leads only."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from academy.models import AuditEvent
from cohorts.models import ImportRun
from learners.models import Learner
from tests.import_helpers import fixture_bytes, make_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db):
    return make_world()


def upload(client, name, content=None, **data):
    content = fixture_bytes(name) if content is None else content
    return client.post(reverse("imports:upload"),
                       {"file": SimpleUploadedFile(name.rsplit("/", 1)[-1], content), **data})


def test_it_checks_ownership_only_leads_may_import(client_for, coach, head, world):
    for user in (coach, head):
        client = client_for(user)
        assert client.get(reverse("imports:upload")).status_code == 403
        assert upload(client, "imports/staff_basic.csv").status_code == 403
    assert ImportRun.objects.count() == 0


def test_the_import_nav_item_is_shown_to_leads_only(client_for, lead, coach):
    lead_nav = client_for(lead).get(reverse("imports:upload")).context["nav_items"]
    assert [(item.label, item.url, item.aria_current) for item in lead_nav if item.label == "Import"] == [
        ("Import", "/imports/", "page")]
    coach_nav = client_for(coach).get(reverse("learners:list")).context["nav_items"]
    assert "Import" not in [item.label for item in coach_nav]


def test_upload_preview_confirm_and_result(client_for, lead, world, django_capture_on_commit_callbacks):
    client = client_for(lead)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, "imports/staff_basic.csv")
    run = ImportRun.objects.get()
    assert response["Location"] == reverse("imports:detail", args=[run.pk])
    assert (run.status, run.kind, run.total_rows, run.processed_rows) == ("previewed", "spreadsheet", 3, 3)
    page = client.get(response["Location"]).content.decode()
    assert "Checked 3 rows: 3 new, 0 changed, 0 unchanged." in page
    assert Learner.objects.count() == 0  # nothing written before confirming

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("imports:confirm", args=[run.pk]))
    run.refresh_from_db()
    assert run.status == "done"
    assert Learner.objects.count() == 3
    page = client.get(reverse("imports:detail", args=[run.pk])).content.decode()
    assert "Imported: 3 new, 0 changed, 0 unchanged" in page
    event = AuditEvent.objects.get(action="import")
    assert (event.user, event.object_type, event.object_id) == (lead, "cohorts.importrun", str(run.pk))


def test_error_rows_must_be_fixed_or_skipped_before_anything_is_imported(client_for, lead, head, world,
                                                                          django_capture_on_commit_callbacks):
    client = client_for(lead)
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, "imports/staff_half_valid.csv")
    run = ImportRun.objects.get()
    page = client.get(reverse("imports:detail", args=[run.pk])).content.decode()
    assert "Checked 8 rows: 1 new, 0 changed, 0 unchanged, 7 with errors." in page
    assert "There is no team called “Parks”." in page
    assert 'name="skip" type="checkbox" value="3"' in page

    response = client.post(reverse("imports:confirm", args=[run.pk]), {"skip": ["3", "4"]}, follow=True)
    assert ("Rows 5, 6, 7, 8, 9 have errors: fix the file and upload it again, or tick “Skip this row” for each "
            "of them.") in response.content.decode()
    run.refresh_from_db()
    assert run.status == "previewed" and Learner.objects.count() == 0
    response = client.post(reverse("imports:confirm", args=[run.pk]), {"skip": ["3", "4", "5", "6", "7", "8"]},
                           follow=True)
    assert ("Row 9 has an error: fix the file and upload it again, or tick “Skip this row” for it."
            in response.content.decode())  # was "Rows 9 have errors"

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:confirm", args=[run.pk]), {"skip": ["3", "4", "5", "6", "7", "8", "9"]})
    run.refresh_from_db()
    assert (run.status, run.skip_rows) == ("done", [3, 4, 5, 6, 7, 8, 9])
    assert list(Learner.objects.values_list("employee_number", flat=True)) == ["006001"]
    page = client.get(reverse("imports:detail", args=[run.pk])).content.decode()
    assert "Imported: 1 new, 0 changed, 0 unchanged, 7 skipped" in page


def test_a_row_that_goes_wrong_between_preview_and_confirm_writes_nothing(client_for, lead, world,
                                                                          django_capture_on_commit_callbacks):
    client = client_for(lead)
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, "imports/staff_error_row_7.csv")
    run = ImportRun.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:confirm", args=[run.pk]), {"skip": ["8"]})
    assert Learner.objects.count() == 9
    # Upload a file whose row 3 clashes with a learner added after its preview.
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, "imports/staff_basic.csv")
    second = ImportRun.objects.exclude(pk=run.pk).get()
    Learner.objects.create(employee_number="X1", first_name="A", last_name="B", team=world["care"],
                           work_email="tom.baker@council.example.org")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:confirm", args=[second.pk]))
    second.refresh_from_db()
    assert second.status == "previewed"
    assert second.message.startswith("Something changed since the rows were checked, so nothing was imported.")
    assert Learner.objects.count() == 10


def test_the_progress_fragment_for_htmx_and_the_refresh_link_without_javascript(client_for, lead, world):
    run = ImportRun.objects.create(kind="spreadsheet", filename="big.csv", content=b"x", status="previewing",
                                   total_rows=10000, processed_rows=2000)
    client = client_for(lead)
    fragment = client.get(reverse("imports:detail", args=[run.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert "2,000 of 10,000 rows checked" in fragment
    assert 'hx-trigger="every 1s"' in fragment
    assert "<html" not in fragment
    page = client.get(reverse("imports:detail", args=[run.pk])).content.decode()
    assert '<progress class="academy-import-progress__bar" max="10000" value="2000"' in page
    assert "Refresh this page</a> to see the latest progress." in page
    assert "<script>" not in page

    ImportRun.objects.filter(pk=run.pk).update(status="previewed")
    response = client.get(reverse("imports:detail", args=[run.pk]), HTTP_HX_REQUEST="true")
    assert (response.status_code, response["HX-Refresh"]) == (204, "true")


def test_a_50_mb_file_is_refused_with_a_size_message(client_for, lead, world):
    response = upload(client_for(lead), "big.csv", content=b"a" * (50 * 1024 * 1024))
    assert response.status_code == 200
    assert response.context["form"].errors["file"] == [
        "The file is 50.0 MB: the largest file you can import is 10 MB. Split it into smaller files."]
    assert ImportRun.objects.count() == 0


def test_a_file_that_is_not_a_spreadsheet_is_refused(client_for, lead, world):
    response = upload(client_for(lead), "imports/not_a_spreadsheet.png")
    assert response.context["form"].errors["file"] == ["This file is not a CSV or Excel spreadsheet."]
    assert ImportRun.objects.count() == 0


def test_an_ilr_upload_uses_the_team_chosen_for_new_learners(client_for, lead, world,
                                                             django_capture_on_commit_callbacks):
    client = client_for(lead)
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, "ilr/ilr_standards.xml", team=world["care"].pk)
    run = ImportRun.objects.get()
    assert (run.kind, run.counts["new"], run.counts["error"]) == ("ilr", 5, 4)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:confirm", args=[run.pk]), {"skip": ["6", "7", "8", "9"]})
    assert set(Learner.objects.values_list("team__name", flat=True)) == {"Adult Social Care"}


def test_the_template_has_the_expected_headers_and_one_example_row(client_for, lead):
    response = client_for(lead).get(reverse("imports:template"))
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines == [
        "Employee number,First name,Last name,Work email,ULN,Team,Line manager name,Line manager email,Cohort,"
        "Standard reference,Cohort start date,Coach email,Start date,Planned end date,Planned off-the-job hours",
        "004213,Priya,Sharma,priya.sharma@council.example.org,9900000705,Revenues and Benefits,Sam Jones,"
        "sam.jones@council.example.org,,ST0118,22/01/2024,coach@example.org,22/01/2024,22/01/2026,400",
    ]


def test_runs_whose_job_was_lost_end_failed_with_a_message_and_import_nothing(client_for, lead, world):
    """A run stuck uploaded, checking or importing for 30 minutes is ended by the beat job; a fresh one is not."""
    import datetime as dt

    from django.utils import timezone

    from cohorts.imports import runs
    from cohorts.tasks import fail_stalled_imports

    client = client_for(lead)
    upload(client, "imports/staff_basic.csv")  # on-commit callbacks do not run here: stays uploaded
    run = ImportRun.objects.get()
    runs.run_check(run.pk)
    runs.confirm_import(run=ImportRun.objects.get(pk=run.pk), skip_rows=[], user=lead)  # now importing
    stale = ImportRun.objects.create(kind="spreadsheet", filename="old.csv", content=b"x", created_by=lead)
    fresh = ImportRun.objects.create(kind="spreadsheet", filename="new.csv", content=b"x", created_by=lead)
    an_hour_ago = timezone.now() - dt.timedelta(hours=1)
    ImportRun.objects.filter(pk__in=[run.pk, stale.pk]).update(updated_at=an_hour_ago)

    assert fail_stalled_imports.delay().get() == 2

    run.refresh_from_db(), stale.refresh_from_db(), fresh.refresh_from_db()
    assert (run.status, stale.status, fresh.status) == ("failed", "failed", "uploaded")
    assert "Nothing was imported" in run.message and "never checked" in stale.message
    assert runs.run_apply(run.pk).status == "failed"  # a late delivery of the import writes nothing
    assert Learner.objects.count() == 0
    assert "Nothing was imported" in client.get(reverse("imports:detail", args=[run.pk])).content.decode()
