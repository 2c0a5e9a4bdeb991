"""The audit log: who signed in, exported data, or read a learner's personal page.

``record`` writes one ``academy.AuditEvent``; the signal receivers at the bottom record
sign-ins (with the IP address), failed sign-ins and sign-outs. They are connected in
``academy.apps.AcademyConfig.ready``.

The audit log holds ids and small facts, never personal data beyond ids: a failed
sign-in records the id of the account tried (when one exists), not the address typed.
"""
from __future__ import annotations

import logging

from allauth.core.internal.httpkit import get_client_ip
from django.contrib.auth import get_user_model
from django.http import HttpRequest

from .models import AuditEvent

logger = logging.getLogger(__name__)

Action = AuditEvent.Action


def client_ip(request: HttpRequest | None) -> str | None:
    """Return the client's IP address as allauth's rate limits see it, or ``None``.

    Honours ``ALLAUTH_TRUSTED_PROXY_COUNT`` (X-Forwarded-For from trusted proxies only).
    """
    if request is None:
        return None
    try:
        return get_client_ip(request)
    except Exception:  # a malformed X-Forwarded-For must not break sign-in
        return request.META.get("REMOTE_ADDR") or None


def record(*, request=None, user=None, action: str, obj=None, detail: dict | None = None) -> AuditEvent:
    """Write and return one ``AuditEvent``.

    ``user`` defaults to ``request.user`` when signed in; ``action`` is an
    ``AuditEvent.Action`` value; ``obj`` (any model instance) fills ``object_type``
    ("app_label.model") and ``object_id``; ``detail`` is a small JSON-safe dict.
    """
    if user is None and request is not None and getattr(request, "user", None) is not None:
        if request.user.is_authenticated:
            user = request.user
    object_type = object_id = ""
    if obj is not None:
        object_type = obj._meta.label_lower
        object_id = str(obj.pk)
    return AuditEvent.objects.create(
        user=user if (user is not None and user.pk) else None,
        action=action,
        object_type=object_type,
        object_id=object_id,
        detail=detail or {},
        ip_address=client_ip(request),
    )


# --- Signal receivers (connected in AcademyConfig.ready) ---------------------------


def on_user_logged_in(sender, request, user, **kwargs):
    """Record a successful sign-in, with the sign-in method when allauth knows it."""
    detail = {}
    session = getattr(request, "session", None)
    if session is not None:
        methods = session.get("account_authentication_methods") or []
        if methods:
            detail["method"] = methods[-1].get("method", "")
    record(request=request, user=user, action=Action.SIGN_IN, obj=user, detail=detail)


def on_user_login_failed(sender, credentials, request=None, **kwargs):
    """Record a failed sign-in: the account tried (by id, if one exists) and the IP address."""
    email = (credentials.get("email") or credentials.get("username") or "").strip().lower()
    account = get_user_model().objects.filter(email=email).first() if email else None
    record(
        request=request,
        user=None,
        action=Action.SIGN_IN_FAILED,
        obj=account,
        detail={"known_account": account is not None},
    )


def on_user_logged_out(sender, request, user, **kwargs):
    """Record a sign-out."""
    if user is not None:
        record(request=request, user=user, action=Action.SIGN_OUT, obj=user)


def record_learner_read(request, learner) -> AuditEvent | None:
    """Record a read of ``learner``'s personal page unless the reader is their coach.

    Call from every view that shows a learner's personal details (name, contact
    details, ULN, notes). Returns the event, or ``None`` for the learner's own coach
    (reading their own learners is their everyday work, not worth an audit row).
    """
    user = request.user
    if getattr(user, "is_coach", False) and learner.enrolments.filter(coach=user).exists():
        return None
    return record(request=request, action=Action.VIEW_LEARNER, obj=learner, detail={"path": request.path})
