"""Verifying who files a refund-review request (orgix §18 "additional verification").

The requester is verified as acting for ONE workspace, which the agent chooses when the
name and email given match several (two workspaces may share a billing email):
- `member`: the signed-in requester is the owner or a billing admin of that workspace;
- `billing_email`: the workspace's stored billing email (never the one typed into the
  request) confirmed it through a signed link sent to it;
- `manual`: an agent verified them another way and says how.
Typing another workspace's name and billing email proves nothing: both are easy to know.
Payment details of a request are shown to a customer only when they are a billing member
of its workspace.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction

from accounts.models import User, Workspace, WorkspaceMember
from accounts.services.audit import audit_record
from billing.errors import DomainError
from billing.models import RefundReviewRequest
from billing.services.reviews import (
    Status,
    check_review_agent,
    ensure_review_transition,
    matching_workspaces,
    workspace_candidate_payments,
)

BILLING_ROLES = (WorkspaceMember.Role.OWNER, WorkspaceMember.Role.BILLING_ADMIN)


def billing_workspace_ids(user: User) -> set[int]:
    """Workspaces whose payment details `user` may see (owner or billing admin)."""
    return set(
        WorkspaceMember.objects.filter(user=user, role__in=BILLING_ROLES).values_list(
            "workspace_id", flat=True
        )
    )


def _chosen_workspace(request: RefundReviewRequest) -> Workspace:
    """The one workspace the request is about; when the name and email matched none or
    several (two workspaces may share a billing email), the agent chooses first."""
    if request.workspace is None:
        matches = matching_workspaces(
            workspace_name=request.workspace_name, billing_email=request.billing_email
        ).count()
        raise DomainError(
            f"{matches} workspaces match this name and email: choose the requester's "
            "workspace first.",
            field="workspace",
        )
    return request.workspace


def is_billing_member(user: User | None, workspace_id: int | None) -> bool:
    return bool(
        user is not None
        and workspace_id is not None
        and WorkspaceMember.objects.filter(
            user=user,
            workspace_id=workspace_id,
            role__in=BILLING_ROLES,
        ).exists()
    )


def _mark_verified(
    *, request: RefundReviewRequest, method: str, agent: User | None, now: datetime, note: str
) -> RefundReviewRequest:
    with transaction.atomic():
        request.verification = method
        request.verified_by = agent
        request.verified_at = now
        request.status = Status.VERIFIED
        request.save(update_fields=["verification", "verified_by", "verified_at", "status"])
        request.candidate_payments.set(workspace_candidate_payments(request))
        audit_record(
            actor=agent,
            action="review.verify",
            target=request,
            now=now,
            after={"method": method},
            note=note,
            workspace_id=request.workspace_id,
        )
    return request


def review_request_verify(
    *, request: RefundReviewRequest, agent: User, method: str, now: datetime, note: str = ""
) -> RefundReviewRequest:
    """Mark the requester verified for the request's workspace. `member`: the signed-in
    requester is its owner or a billing admin. `manual`: the agent verified them another
    way and `note` says how. (`billing_email` is only reached through the signed link,
    see `review_request_send_confirmation`.)"""
    check_review_agent(agent)
    ensure_review_transition(request, Status.VERIFIED)
    Verification = RefundReviewRequest.Verification
    workspace = _chosen_workspace(request)
    if method == Verification.MEMBER:
        if not is_billing_member(request.submitted_by, workspace.pk):
            raise DomainError(
                f"The requester is not the owner or a billing admin of {workspace.name}: "
                "send a confirmation link to its billing email instead.",
                field="method",
            )
    elif method == Verification.MANUAL:
        if not note.strip():
            raise DomainError("Say how the requester was verified.", field="note")
    elif method == Verification.BILLING_EMAIL:
        raise DomainError(
            "The billing email confirms through the link sent to it, not by an agent.",
            field="method",
        )
    else:
        raise DomainError("Verify as a billing member or manually.", field="method")
    return _mark_verified(request=request, method=method, agent=agent, now=now, note=note)


CONFIRMATION_SALT = "billing.review-confirmation"
CONFIRMATION_MAX_AGE = timedelta(days=7)


def review_request_send_confirmation(
    *, request: RefundReviewRequest, agent: User, now: datetime
) -> str:
    """Email the workspace's stored billing email a signed link that confirms the request
    (the reply comes from that mailbox, whoever filed the request). Returns the address."""
    check_review_agent(agent)
    ensure_review_transition(request, Status.VERIFIED)
    workspace = _chosen_workspace(request)
    if not workspace.billing_email:
        raise DomainError(f"{workspace.name} has no billing email.", field="workspace")
    token = signing.dumps(
        {"review": request.pk, "workspace": workspace.pk, "email": workspace.billing_email},
        salt=CONFIRMATION_SALT,
    )
    link = f"{settings.SITE_URL.rstrip('/')}/billing/review/confirm/{token}/"
    body = (
        f"Someone asked for a billing review of {workspace.name} "
        f"({request.get_kind_display().lower()}, about {request.amount_charged} "
        f"{request.currency} around {request.approximate_payment_date:%d %B %Y}).\n\n"
        f"If this was you or someone acting for {workspace.name}, confirm it here within "
        f"{CONFIRMATION_MAX_AGE.days} days:\n{link}\n\nIf not, ignore this email: "
        "nothing about your billing will be shown or changed."
    )
    with transaction.atomic():
        audit_record(
            actor=agent,
            action="review.confirmation_sent",
            target=request,
            now=now,
            workspace_id=workspace.pk,
        )
        transaction.on_commit(
            lambda: send_mail(
                f"Confirm the billing review request for {workspace.name}",
                body,
                settings.DEFAULT_FROM_EMAIL,
                [workspace.billing_email],
            )
        )
    return workspace.billing_email


def review_request_from_token(token: str) -> RefundReviewRequest:
    """The request a confirmation link names, while the link is valid."""
    try:
        data = signing.loads(
            token, salt=CONFIRMATION_SALT, max_age=CONFIRMATION_MAX_AGE.total_seconds()
        )
    except signing.SignatureExpired:
        raise DomainError(
            "This link has expired: ask support for a new one.", field="token"
        ) from None
    except signing.BadSignature:
        raise DomainError("This link is not valid.", field="token") from None
    request = (
        RefundReviewRequest.objects.select_related("workspace")
        .filter(pk=data.get("review"), workspace_id=data.get("workspace"))
        .first()
    )
    if (
        request is None
        or (request.workspace.billing_email or "").lower() != str(data.get("email", "")).lower()
    ):
        raise DomainError("This link is no longer valid.", field="token")
    return request


def review_request_confirm(*, token: str, now: datetime) -> RefundReviewRequest:
    """The billing email's owner confirmed through the signed link."""
    request = review_request_from_token(token)
    ensure_review_transition(request, Status.VERIFIED)
    return _mark_verified(
        request=request,
        method=RefundReviewRequest.Verification.BILLING_EMAIL,
        agent=None,
        now=now,
        note=f"Confirmed from {request.workspace.billing_email} through the signed link.",
    )
