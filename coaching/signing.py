"""Signatures of training plans and progress reviews by the apprentice, the employer and the provider.

A signature is an act of the signed-in user (``sign``): who (their name as it was), the
party they signed for, when, and the SHA-256 of the document's canonical content at that
moment (``content_sha256``). The sign form carries the hash of what the page showed;
``sign`` recomputes it under a row lock and refuses a stale page (``StaleDocument``), so
nobody signs what they did not see.

- Canonical content (``document_content``): a JSON object of the document's agreed
  fields, keys sorted, no spaces, UTF-8, dates ISO 8601, hours as decimal strings. A
  review's content is what the three agree (date, attendance, rating, agreed actions);
  the coach's own notes are not part of it and are not shown to the apprentice or the
  line manager.
- Who signs for whom (``party_for``): the apprentice (their own account), the employer
  (the learner's line manager's account), the provider (the enrolment's coach; a lead
  when the enrolment has no coach).
- A signature counts while the document's content still hashes to it (``state_of``);
  after a change through Academy a plan has a new version and a review a new
  ``version``, and the parties sign again. ``find_altered`` lists signatures whose
  document changed under them without that (an edit made outside Academy).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from academy import audit
from academy.changes import records_changed
from academy.models import AuditEvent

from . import canonical
from .models import ProgressReview, Signature, TrainingPlan

Party = Signature.Party
PARTIES = (Party.APPRENTICE, Party.EMPLOYER, Party.PROVIDER)
# How each party is named in a sentence ("awaiting the line manager's signature").
PARTY_NOUNS = {Party.APPRENTICE: "the apprentice", Party.EMPLOYER: "the line manager", Party.PROVIDER: "the coach"}


class StaleDocument(Exception):
    """The document changed since the page was read, or a newer plan version exists.

    ``current`` is the document to show now (the newest plan version, or the review as it is).
    """

    def __init__(self, current, message: str):
        super().__init__(message)
        self.current = current
        self.message = message


def kind_of(document) -> str:
    return "training_plan" if isinstance(document, TrainingPlan) else "progress_review"


def content_hash(document: TrainingPlan | ProgressReview) -> str:
    """Return the SHA-256 (64 hex characters) of the document's canonical content as it is now."""
    return canonical.content_sha256(kind_of(document), document)


def party_for(user, enrolment) -> str | None:
    """Return the party ``user`` signs for on ``enrolment`` (a ``Party`` value), or ``None``.

    Needs ``enrolment.learner`` loaded (no query otherwise).
    """
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    learner = enrolment.learner
    if getattr(user, "is_learner", False) and learner.user_id == user.pk:
        return Party.APPRENTICE
    if getattr(user, "is_line_manager", False) and learner.line_manager_id == user.pk:
        return Party.EMPLOYER
    if getattr(user, "is_coach", False) and enrolment.coach_id == user.pk:
        return Party.PROVIDER
    if getattr(user, "is_lead", False) and enrolment.coach_id is None:
        return Party.PROVIDER
    return None


@dataclass
class SignatureState:
    """Where a document's signatures stand.

    ``signed``: party → the ``Signature`` that counts; ``earlier``: signatures of an
    earlier content (a review changed since; they no longer count); ``missing``: the
    parties still to sign, in ``PARTIES`` order; ``sha256``: the content's hash now.
    """

    sha256: str
    signed: dict = field(default_factory=dict)
    earlier: list = field(default_factory=list)
    missing: list = field(default_factory=list)

    @property
    def rows(self) -> list[tuple[str, Signature | None]]:
        """(party label, the signature that counts or ``None``) for each party, in ``PARTIES`` order."""
        return [(Party(party).label, self.signed.get(party)) for party in PARTIES]

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def label(self) -> str:
        """``"Signed by all three"``, ``"Not signed yet"`` or ``"Awaiting the apprentice's and the coach's signatures"``."""
        if self.complete:
            return "Signed by all three"
        if not self.signed:
            return "Not signed yet"
        owners = [f"{PARTY_NOUNS[party]}'s" for party in self.missing]
        who = owners[0] if len(owners) == 1 else ", ".join(owners[:-1]) + " and " + owners[-1]
        return f"Awaiting {who} signature{'s' if len(owners) > 1 else ''}"


def state_of(document: TrainingPlan | ProgressReview, signatures=None) -> SignatureState:
    """Return the ``SignatureState`` of ``document``.

    ``signatures`` defaults to ``document.signatures.all()`` (prefetch it for lists).
    """
    state = SignatureState(sha256=document.content_sha256)
    for signature in (document.signatures.all() if signatures is None else signatures):
        if signature.content_sha256 == state.sha256 and signature.party not in state.signed:
            state.signed[signature.party] = signature
        else:
            state.earlier.append(signature)
    state.missing = [party for party in PARTIES if party not in state.signed]
    return state


def _locked_current(document):
    """Return the document re-read under a row lock; for a plan, the enrolment's newest version."""
    if isinstance(document, TrainingPlan):
        newest = (TrainingPlan.objects.select_for_update().select_related("enrolment__learner")
                  .filter(enrolment_id=document.enrolment_id).order_by("-number").first())
        return newest
    return ProgressReview.objects.select_for_update().select_related("enrolment__learner").get(pk=document.pk)


def sign(*, document: TrainingPlan | ProgressReview, by, shown_sha256: str, comment: str = "",
         request=None) -> Signature:
    """Record ``by``'s signature of ``document`` for the party they are (``party_for``) and return it.

    ``shown_sha256`` is the hash the page showed (``content_hash`` when it was rendered).
    Raises ``PermissionDenied`` when ``by`` signs for no party of the enrolment,
    ``StaleDocument`` when the document changed since (or a newer plan version exists),
    and ``ValidationError`` (field ``"__all__"``) when ``by`` already signed this content.
    Writes an audit event (``AuditEvent.Action.SIGNATURE``) in the same transaction.
    """
    with transaction.atomic():
        current = _locked_current(document)
        if current is None:  # pragma: no cover - a plan row cannot vanish while locked
            raise StaleDocument(document, "This training plan no longer exists.")
        party = party_for(by, current.enrolment)
        if party is None:
            raise PermissionDenied("You do not sign for any party of this apprenticeship.")
        if isinstance(current, TrainingPlan) and current.pk != document.pk:
            raise StaleDocument(current, f"This plan has a newer version ({current.number}) since you opened it: "
                                         "read it below, then sign it.")
        sha256 = current.content_sha256
        if sha256 != shown_sha256:
            raise StaleDocument(current, "This document changed since you opened it, so it was not signed: "
                                         "read it as it is now, then sign it.")
        state = state_of(current, current.signatures.all())
        if party in state.signed:
            raise ValidationError({"__all__": ["You have already signed this version."]})
        is_plan = isinstance(current, TrainingPlan)
        signature = Signature.objects.create(
            training_plan=current if is_plan else None,
            progress_review=None if is_plan else current,
            document_version=current.number if is_plan else current.version,
            party=party, signer=by, signer_name=by.get_full_name() or by.email, signed_at=timezone.now(),
            content_sha256=sha256, comment=comment.strip(),
        )
        audit.record(request=request, user=by, action=AuditEvent.Action.SIGNATURE, obj=current, detail={
            "party": party, "document_version": signature.document_version, "sha256": sha256,
            "enrolment": current.enrolment_id,
        })
        records_changed()
    return signature


@dataclass(frozen=True)
class Altered:
    """A signature whose document's content changed under it without a new version.

    ``signature``; ``document`` (plan or review); ``signed_sha256`` and ``now_sha256``.
    """

    signature: Signature
    document: TrainingPlan | ProgressReview
    signed_sha256: str
    now_sha256: str


def find_altered() -> tuple[list[Altered], int, int]:
    """Check every signed document; return (altered, signatures checked, skipped of erased learners).

    Every save through Academy stores the content's hash on the document
    (``content_sha256``), and a plan version is never changed once signed (a change makes
    a new version). A signature is reported when its document's content no longer hashes
    to the stored hash (changed outside Academy), or, for a plan, when the content no longer
    hashes to what was signed. Learners erased under the privacy rules have their free
    text blanked on purpose: their signatures are skipped and counted. Reads in chunks.
    """
    altered: list[Altered] = []
    checked = skipped = 0
    signatures = (Signature.objects
                  .select_related("training_plan__enrolment__learner", "progress_review__enrolment__learner")
                  .order_by("id"))
    for signature in signatures.iterator(chunk_size=2000):
        document = signature.training_plan or signature.progress_review
        if document.enrolment.learner.anonymised_at is not None:
            skipped += 1
            continue
        checked += 1
        now = content_hash(document)
        if now != document.content_sha256 or (isinstance(document, TrainingPlan) and now != signature.content_sha256):
            altered.append(Altered(signature, document, signature.content_sha256, now))
    return altered, checked, skipped
