"""Customer credit ledger. The balance is the sum of entries; spending locks the workspace
row so two renewals can't spend the same credit."""

from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum

from accounts.models import User, Workspace
from accounts.services.audit import audit_record
from billing.errors import DomainError
from billing.models import CreditEntry, Payment, Refund
from billing.money import ZERO, round_money


def credit_balance(*, workspace: Workspace, currency: str) -> Decimal:
    total = CreditEntry.objects.filter(workspace=workspace, currency=currency).aggregate(
        total=Sum("amount")
    )["total"]
    return total or ZERO


def credit_add(
    *,
    workspace: Workspace,
    amount: Decimal,
    currency: str,
    now: datetime,
    actor: User | None,
    refund: Refund | None = None,
    memo: str = "",
) -> CreditEntry:
    if amount <= 0:
        raise DomainError("Credit to add must be positive.", field="amount")
    kind = CreditEntry.Kind.REFUND if refund else CreditEntry.Kind.ADJUSTMENT
    with transaction.atomic():
        entry = CreditEntry.objects.create(
            workspace=workspace,
            kind=kind,
            amount=round_money(amount, currency),
            currency=currency,
            refund=refund,
            memo=memo,
            created_at=now,
        )
        audit_record(
            actor=actor, action="credit.add", target=entry, now=now, after={"amount": amount}
        )
    return entry


def credit_apply(
    *,
    workspace: Workspace,
    amount_due: Decimal,
    currency: str,
    now: datetime,
    payment: Payment | None = None,
    memo: str = "",
) -> Decimal:
    """Spend credit towards `amount_due`; returns the amount covered (maybe zero)."""
    with transaction.atomic():
        Workspace.objects.select_for_update().filter(pk=workspace.pk).first()
        available = credit_balance(workspace=workspace, currency=currency)
        applied = min(available, amount_due)
        if applied <= 0:
            return ZERO
        entry = CreditEntry.objects.create(
            workspace=workspace,
            kind=CreditEntry.Kind.APPLIED,
            amount=-applied,
            currency=currency,
            payment=payment,
            memo=memo,
            created_at=now,
        )
        audit_record(
            actor=None,
            action="credit.apply",
            target=entry,
            now=now,
            before={"balance": available},
            after={"balance": available - applied},
        )
    return applied


def credit_balances(workspace: Workspace) -> list[tuple[str, Decimal]]:
    """Every currency the workspace holds credit in, with its balance (zero ones omitted)."""
    totals = (
        CreditEntry.objects.filter(workspace=workspace)
        .values("currency")
        .annotate(total=Sum("amount"))
        .order_by("currency")
    )
    return [
        (row["currency"], round_money(row["total"], row["currency"]))
        for row in totals
        if row["total"]
    ]
