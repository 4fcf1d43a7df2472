"""Chargebacks and payment disputes (orgix §11).

While a dispute is open the workspace's paid features are suspended (reason
"chargeback") and no refund of the payment is possible. Won: the suspension is lifted once
no other dispute is open. Lost: the payment counts as unpaid (`lost`), the subscription
enters the non-payment path, and the workspace moves from the chargeback suspension to
the non-payment restriction dunning works with. A workspace suspended for another reason
(misuse) keeps that suspension.

That is the house rule. A policy can say otherwise (`chargeback` in its rules): while open,
lock the workspace (the house rule), restrict it to reading, or leave it; once lost, the
non-payment path (the house rule) or end the subscription at once, falling back per the
policy (to the Free plan: a downgrade). `dispute_policy_apply` applies it, with an audit
record naming the clause.
"""

from datetime import datetime
from decimal import Decimal

from django.db import transaction

from accounts.models import User, Workspace
from accounts.services.audit import audit_record
from accounts.services.workspaces import workspace_set_status
from billing.errors import DomainError, InvalidTransition
from billing.models import Dispute, Payment
from billing.policy.rules import ChargebackOnLost, ChargebackOnOpen, ChargebackRule
from billing.selectors import policy_rules
from billing.services.cancellations import cancellation_apply
from billing.services.dunning import subscription_charge_failed

CHARGEBACK = Workspace.SuspensionReason.CHARGEBACK


def dispute_open(
    *,
    payment: Payment,
    amount: Decimal,
    reason: str,
    reference: str,
    actor: User | None,
    now: datetime,
) -> Dispute:
    """Record a dispute; a provider reference already recorded returns that dispute."""
    if amount <= 0 or amount > payment.amount:
        raise DomainError("A dispute is for part or all of the payment.", field="amount")
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        if reference:
            existing = Dispute.objects.filter(provider_reference=reference).first()
            if existing:
                return existing
        dispute = Dispute.objects.create(
            payment=locked,
            amount=amount,
            currency=locked.currency,
            reason=reason[:120],
            provider_reference=reference,
            opened_at=now,
        )
        audit_record(
            actor=actor,
            action="dispute.open",
            target=dispute,
            now=now,
            after={"amount": amount, "reason": reason, "reference": reference},
            workspace_id=locked.workspace_id,
        )
        dispute_policy_apply(dispute=dispute, outcome=Dispute.Status.OPEN, actor=actor, now=now)
    return dispute


def chargeback_rule(payment: Payment) -> ChargebackRule | None:
    """The chargeback rule of the policy the disputed payment paid under (None: the house
    rule, also for payments outside a subscription)."""
    if payment.subscription_id is None:
        return None
    return policy_rules(payment.subscription.policy).chargeback


def dispute_policy_apply(
    *, dispute: Dispute, outcome: str, actor: User | None, now: datetime
) -> None:
    """What the policy says an opened (`open`) or lost (`lost`) chargeback does to the
    workspace and the subscription. Call inside the dispute's transaction."""
    payment = dispute.payment
    rule = chargeback_rule(payment)
    if rule is not None:
        audit_record(
            actor=actor,
            action="dispute.policy_applied",
            target=dispute,
            now=now,
            after={
                "outcome": outcome,
                "consequence": (rule.on_open if outcome == Dispute.Status.OPEN else rule.on_lost),
                "clause": rule.clause.ref,
            },
            workspace_id=payment.workspace_id,
        )
    if outcome == Dispute.Status.OPEN:
        _on_open(payment.workspace, rule, dispute=dispute, actor=actor, now=now)
    else:
        _payment_lost(payment, rule, actor=actor, now=now, dispute=dispute)


def _on_open(workspace, rule, *, dispute: Dispute, actor: User | None, now: datetime) -> None:
    on_open = rule.on_open if rule is not None else ChargebackOnOpen.LOCK
    clause = rule.clause.ref if rule is not None else "orgix §11"
    if on_open == ChargebackOnOpen.LOCK:
        status, allowed = (
            Workspace.Status.SUSPENDED,
            (Workspace.Status.ACTIVE, Workspace.Status.RESTRICTED),
        )
    elif on_open == ChargebackOnOpen.RESTRICT:
        status, allowed = Workspace.Status.RESTRICTED, (Workspace.Status.ACTIVE,)
    else:
        return
    if workspace.status in allowed:
        workspace_set_status(
            workspace=workspace,
            status=status,
            reason=CHARGEBACK,
            actor=actor,
            now=now,
            note=f"Dispute #{dispute.pk} opened ({clause})",
        )


def dispute_close(*, dispute: Dispute, outcome: str, actor: User | None, now: datetime) -> Dispute:
    """Close an open dispute as `won` or `lost`."""
    if outcome not in (Dispute.Status.WON, Dispute.Status.LOST):
        raise DomainError("A dispute is closed as won or lost.", field="outcome")
    with transaction.atomic():
        locked = Dispute.objects.select_for_update().select_related("payment").get(pk=dispute.pk)
        if locked.status != Dispute.Status.OPEN:
            raise InvalidTransition(
                f"This dispute is already {locked.get_status_display().lower()}.",
                field="status",
            )
        locked.status = outcome
        locked.closed_at = now
        locked.save(update_fields=["status", "closed_at"])
        payment = locked.payment
        audit_record(
            actor=actor,
            action=f"dispute.{outcome}",
            target=locked,
            now=now,
            before={"status": "open"},
            after={"status": outcome},
            workspace_id=payment.workspace_id,
        )
        if outcome == Dispute.Status.LOST:
            dispute_policy_apply(dispute=locked, outcome=outcome, actor=actor, now=now)
        _lift_chargeback_suspension(payment.workspace, outcome=outcome, actor=actor, now=now)
    return locked


def _payment_lost(
    payment: Payment,
    rule: ChargebackRule | None,
    *,
    actor: User | None,
    now: datetime,
    dispute: Dispute,
) -> None:
    Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.LOST)
    audit_record(
        actor=actor,
        action="payment.lost",
        target=payment,
        now=now,
        before={"status": payment.status},
        after={"status": "lost"},
        note=f"Dispute #{dispute.pk} lost",
    )
    if not payment.subscription_id:
        return
    if rule is not None and rule.on_lost == ChargebackOnLost.END:
        cancellation_apply(subscription=payment.subscription, now=now, actor=actor)
    else:
        subscription_charge_failed(
            subscription=payment.subscription,
            actor=actor,
            now=now,
            payment_failure_message=f"Payment #{payment.pk} lost to dispute #{dispute.pk} (§11)",
        )


def _lift_chargeback_suspension(
    workspace: Workspace, *, outcome: str, actor: User | None, now: datetime
) -> None:
    workspace.refresh_from_db()
    still_open = Dispute.objects.filter(
        payment__workspace=workspace, status=Dispute.Status.OPEN
    ).exists()
    if still_open or workspace.suspension_reason != CHARGEBACK:
        return
    if outcome == Dispute.Status.WON:
        status, reason = Workspace.Status.ACTIVE, ""
    else:
        status, reason = Workspace.Status.RESTRICTED, Workspace.SuspensionReason.NON_PAYMENT
    workspace_set_status(
        workspace=workspace,
        status=status,
        reason=reason,
        actor=actor,
        now=now,
        note=f"Dispute {outcome}",
    )
