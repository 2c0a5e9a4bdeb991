"""The pages the benchmark measures: one row each. Add a row to cover a new page.

``paths`` are tried in order; the first that resolves to a view is used, so a page
another issue has not built yet is reported "not available" and picked up automatically
once its URL exists. ``{learner_id}``/``{enrolment_id}`` are filled with a learner and
enrolment of the signed-in coach. ``role`` is the synthetic user who signs in
(``demo.scale``: lead, head of data, or the first coach). ``load`` marks the pages
loaded under gunicorn (requests/s and p95); every row gets a query count, of the page as
built (a new dashboard generation first), and ``cached`` pages also as served from the
dashboard cache (``dashboards.cache``).
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    name: str
    paths: tuple[str, ...]
    role: str  # "lead", "head" or "coach"
    load: bool = True
    cached: bool = False  # also count the queries when served from the dashboard cache


PAGES = (
    Page("dashboard", ("/dashboard/",), "head", cached=True),
    Page("learner_list", ("/learners/",), "lead"),
    Page("learner_list_search", ("/learners/?q=Patel",), "lead", load=False),
    Page("learner_list_last_page", ("/learners/?page=999999",), "lead", load=False),
    Page("learner_detail", ("/learners/{learner_id}/",), "lead", load=False),
    Page("coach_page", ("/coach/",), "coach"),
    Page("coach_enrolment", ("/coach/enrolments/{enrolment_id}/",), "coach", load=False),
    Page(
        "api_list",
        ("/api/v1/learners/", "/api/learners/", "/api/v1/enrolments/", "/api/enrolments/", "/api/v1/", "/api/"),
        "lead",
    ),
)
BARE = Page("bare", ("/bench/bare/",), "lead")
