"""The canonical content of a signed document (training plan version or progress review) and its SHA-256.

Canonical content is a JSON object of the document's agreed fields, keys sorted, no
spaces, UTF-8; dates ISO 8601; hours as decimal strings with 2 places. A review's
content is what the three parties agree (date, attendance, rating, agreed actions); the
coach's own notes are not part of it. No database query; no model import (the models
call ``content_sha256`` when they save).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal

PLAN_CONTENT_FIELDS = (
    "number", "standard_reference", "standard_title", "standard_version", "start_date", "planned_end_date",
    "planned_otj_hours", "otj_delivery", "prior_learning", "prior_learning_reduction_hours", "english_maths",
    "english_maths_detail", "roles_and_responsibilities", "concerns",
)
REVIEW_CONTENT_FIELDS = ("date", "learner_attended", "line_manager_attended", "coach_attended", "rag", "agreed_actions")
FIELDS = {"training_plan": PLAN_CONTENT_FIELDS, "progress_review": REVIEW_CONTENT_FIELDS}
# Hours: whatever Python number a field holds before it is saved (a default 0, a Decimal
# from a form), the content has the same string the database value gives ("0.00").
HOURS_FIELDS = {"planned_otj_hours", "prior_learning_reduction_hours"}


def _json_value(value, *, hours: bool = False):
    if hours and value is not None:
        return str(Decimal(str(value)).quantize(Decimal("0.01")))
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value.quantize(Decimal("0.01")))
    return value


def document_content(kind: str, document) -> dict:
    """Return the agreed content of ``document`` as a JSON-safe dict.

    ``kind`` is ``"training_plan"`` or ``"progress_review"``; ``document`` any object with
    those fields and ``enrolment_id`` (a model instance, or a historical one in a migration).
    """
    content = {name: _json_value(getattr(document, name), hours=name in HOURS_FIELDS) for name in FIELDS[kind]}
    return {"document": kind, "enrolment": document.enrolment_id, **content}


def canonical_json(content: dict) -> bytes:
    """Return ``content`` as canonical JSON bytes (sorted keys, no spaces, UTF-8)."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def content_sha256(kind: str, document) -> str:
    """Return the SHA-256 (64 lower-case hex characters) of ``document``'s canonical content."""
    return hashlib.sha256(canonical_json(document_content(kind, document))).hexdigest()
