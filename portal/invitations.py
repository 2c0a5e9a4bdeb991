"""Invitations: a lead brings an apprentice, or a whole cohort with their line managers, into Academy.

There is no self sign-up. An invitation creates the person's account (role *apprentice*
or *line manager*, no usable password), links it (``Learner.user``,
``Learner.line_manager``) and, once the change is committed, e-mails a one-time link to
set a password: allauth's password reset key for that account, which stops working once
a password is set (the token covers the password hash and the last sign-in) or after
``PASSWORD_RESET_TIMEOUT`` seconds (Django's default: 3 days). With Microsoft Entra ID on
(``ENTRA_*`` settings) the e-mail says to sign in with Microsoft instead and carries no
password link.

Everything one call decides is written in one transaction; each e-mail is sent after the
commit, so a failed invitation sends nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from allauth.account.forms import default_token_generator
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse

from academy.audit import Action, record
from cohorts.models import Cohort, Enrolment
from learners.models import Learner

User = get_user_model()


@dataclass
class Outcome:
    """What happened to one person: ``status`` is "invited", "invited again", "linked" (an
    existing account was linked, no e-mail) or "skipped"; ``reason`` says why where it is
    not "invited"."""

    name: str
    email: str
    role: str
    status: str
    reason: str = ""


@dataclass
class InvitationRun:
    """The outcomes of one invitation request, people in the order they were considered."""

    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, *statuses: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status in statuses)

    @property
    def summary(self) -> str:
        """Return e.g. "3 invitations sent; 1 account linked; 2 skipped"."""
        parts = []
        sent = self.count("invited", "invited again")
        if sent:
            parts.append(f"{sent} invitation{'s' if sent != 1 else ''} sent")
        linked = self.count("linked")
        if linked:
            parts.append(f"{linked} existing account{'s' if linked != 1 else ''} linked")
        skipped = self.count("skipped")
        if skipped:
            parts.append(f"{skipped} skipped")
        return "; ".join(parts) or "Nobody to invite"


def sso_enabled() -> bool:
    """Return whether staff sign in with Microsoft Entra ID (all three ``ENTRA_*`` settings set)."""
    return bool(settings.SOCIALACCOUNT_PROVIDERS.get("openid_connect", {}).get("APPS"))


def _never_signed_in(user) -> bool:
    return user.last_login is None and not user.has_usable_password()


def _send_after_commit(request: HttpRequest, user, *, learner_names: list[str], by) -> None:
    """E-mail ``user`` their invitation once the transaction commits."""
    link = ""
    if not sso_enabled():
        key = f"{user_pk_to_url_str(user)}-{default_token_generator.make_token(user)}"
        path = reverse("account_reset_password_from_key", kwargs={"uidb36": "UID", "key": "KEY"})
        link = request.build_absolute_uri(path.replace("UID-KEY", key))
    context = {
        "user": user,
        "by": by,
        "learner_names": learner_names,
        "link": link,
        "sign_in_url": request.build_absolute_uri(reverse("account_login")),
        "days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
    }
    message = EmailMultiAlternatives(
        subject=" ".join(render_to_string("emails/invitation_subject.txt", context).split()),
        body=render_to_string("emails/invitation.txt", context),
        to=[user.email],
    )
    transaction.on_commit(message.send)


def _learner_account(request, learner: Learner, by, run: InvitationRun) -> None:
    name, email = learner.full_name, learner.work_email
    role = User.Role.LEARNER.label
    if learner.anonymised_at:
        run.outcomes.append(Outcome(name, "", role, "skipped", "their personal data has been erased"))
        return
    account = learner.user
    if account is None:
        account = User.objects.filter(email__iexact=email).first()
        if account is not None and account.role != User.Role.LEARNER:
            run.outcomes.append(Outcome(name, email, role, "skipped",
                                        f"{email} already has an account as {account.get_role_display().lower()}; "
                                        "an account has one role"))
            return
        if account is None:
            account = User(email=email, full_name=name, role=User.Role.LEARNER)
            account.set_unusable_password()
            account.save()
            status = "invited"
        else:
            status = "invited again" if _never_signed_in(account) else "linked"
        Learner.objects.filter(pk=learner.pk).update(user=account)
        learner.user = account
    elif _never_signed_in(account):
        status = "invited again"
    else:
        run.outcomes.append(Outcome(name, email, role, "skipped", "already signed in with their account"))
        return
    if status != "linked":
        _send_after_commit(request, account, learner_names=[], by=by)
    record(request=request, action=Action.INVITATION, obj=account, detail={"role": "learner", "status": status})
    run.outcomes.append(Outcome(name, email, role, status))


def _line_manager_accounts(request, learners: list[Learner], by, run: InvitationRun) -> None:
    """Invite each line manager of ``learners`` once, linking every learner with their e-mail."""
    role = User.Role.LINE_MANAGER.label
    by_email: dict[str, list[Learner]] = {}
    for learner in learners:
        if learner.anonymised_at:
            continue
        if not learner.line_manager_email:
            run.outcomes.append(Outcome(f"Line manager of {learner.full_name}", "", role, "skipped",
                                        "no line manager e-mail is recorded for this learner"))
            continue
        by_email.setdefault(learner.line_manager_email.strip().lower(), []).append(learner)
    for email, managed in by_email.items():
        name = next((learner.line_manager_name for learner in managed if learner.line_manager_name), "") or email
        account = User.objects.filter(email__iexact=email).first()
        if account is None:
            account = User(email=email, full_name=name if name != email else "", role=User.Role.LINE_MANAGER)
            account.set_unusable_password()
            account.save()
            status = "invited"
        elif account.role == User.Role.LINE_MANAGER:
            status = "invited again" if _never_signed_in(account) else "linked"
        else:
            status = "linked"
        # Every learner recorded with this manager's e-mail, not only those asked about.
        Learner.objects.filter(line_manager_email__iexact=email).update(line_manager=account)
        reason = "" if status != "linked" else (
            "already signed in with their account" if account.role == User.Role.LINE_MANAGER
            else f"their existing {account.get_role_display().lower()} account is linked; no e-mail sent")
        if status != "linked":
            _send_after_commit(request, account, learner_names=[learner.full_name for learner in managed], by=by)
        record(request=request, action=Action.INVITATION, obj=account,
               detail={"role": "line_manager", "status": status, "learners": [learner.pk for learner in managed]})
        run.outcomes.append(Outcome(name, email, role, status, reason))


@transaction.atomic
def invite_learner(request: HttpRequest, learner: Learner, *, with_line_manager: bool = True) -> InvitationRun:
    """Invite ``learner`` (and, with ``with_line_manager``, their line manager) on behalf of ``request.user``.

    Returns the ``InvitationRun``; a person who cannot be invited is "skipped" with the
    reason (erased, an account of another role, already signed in, no manager e-mail).
    """
    run = InvitationRun()
    learner = Learner.objects.select_for_update(of=("self",)).select_related("user").get(pk=learner.pk)
    _learner_account(request, learner, request.user, run)
    if with_line_manager:
        _line_manager_accounts(request, [learner], request.user, run)
    return run


@transaction.atomic
def invite_cohort(request: HttpRequest, cohort: Cohort) -> InvitationRun:
    """Invite every learner enrolled on ``cohort`` and their line managers; see ``invite_learner``."""
    run = InvitationRun()
    learners = list(
        Learner.objects.select_for_update(of=("self",)).select_related("user")
        .filter(pk__in=Enrolment.objects.filter(cohort=cohort).values("learner_id"))
        .order_by("last_name", "first_name", "id")
    )
    for learner in learners:
        _learner_account(request, learner, request.user, run)
    _line_manager_accounts(request, learners, request.user, run)
    return run
