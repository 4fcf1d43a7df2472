"""Builds one demo workspace and everything it owns into a batch of unsaved rows."""

from __future__ import annotations

import datetime as dt
import random
from calendar import monthrange
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import models

from accounts.models import (
    AuditRecord,
    DeletionTombstone,
    InternalMembership,
    StoredFile,
    User,
    Workspace,
    WorkspaceMember,
    WorkspaceModule,
)
from billing.models import (
    AddOn,
    CancellationRequest,
    CreditEntry,
    Dispute,
    OnboardingService,
    Payment,
    Plan,
    Refund,
    RefundPolicy,
    RefundReviewRequest,
    Subscription,
)
from billing.money import round_money
from tests.factories import (
    AddOnFactory,
    OnboardingServiceFactory,
    SubscriptionFactory,
    WorkspaceFactory,
)

from .catalogue import (
    ACTIVATION_FEE,
    CATALOGUE,
    FIRST_NAMES,
    IMPLEMENTATION_SERVICES,
    LAST_NAMES,
    MODULE_CODES,
    PAYMENT_HISTORY,
    USD_COUNTRIES,
    VAT_RATES,
)


@dataclass(frozen=True)
class WorkspaceSpec:
    """What to generate for one workspace; the rest comes from its own random stream."""

    slug: str
    name: str
    policy_slug: str
    tier: int
    interval: str
    status: str
    owner: User | None = None
    index: int = 0


@dataclass
class Context:
    now: dt.datetime
    seed: int
    plans: dict[tuple[str, int, str], Plan]
    policies: dict[str, RefundPolicy]
    customer_password: str
    agent: User


@dataclass
class Batch:
    """Unsaved rows of one chunk, by model, in insertion order."""

    rows: dict[type[models.Model], list[models.Model]] = field(default_factory=dict)
    audit_targets: list[tuple[AuditRecord, models.Model, Workspace]] = field(default_factory=list)

    def add(self, obj: models.Model) -> models.Model:
        self.rows.setdefault(type(obj), []).append(obj)
        return obj


def add_months(moment: dt.datetime, months: int) -> dt.datetime:
    """Same day-of-month `months` later, clamped to the last day of a shorter month."""
    year, month = divmod(moment.month - 1 + months, 12)
    year, month = moment.year + year, month + 1
    return moment.replace(year=year, month=month, day=min(moment.day, monthrange(year, month)[1]))


def current_period(
    started: dt.datetime, months: int, now: dt.datetime
) -> tuple[dt.datetime, dt.datetime]:
    """The billing period, counted in `months` from `started`, that contains `now`."""
    start = started
    while add_months(start, months) <= now:
        start = add_months(start, months)
    return start, add_months(start, months)


class WorkspaceBuilder:
    """Builds one workspace and everything it owns into a `Batch` (nothing is saved)."""

    def __init__(self, spec: WorkspaceSpec, context: Context, batch: Batch):
        self.spec = spec
        self.ctx = context
        self.now = context.now
        self.batch = batch
        self.rng = random.Random(f"{context.seed}:{spec.slug}")
        self.currency = CATALOGUE[spec.policy_slug][0]
        self.plan = context.plans[(spec.policy_slug, spec.tier, spec.interval)]
        self.payments: list[Payment] = []
        self.user_count = 0
        # The first 48 demo workspaces also show each rare case at least once.
        self.showcase = spec.owner is None and spec.index < 48

    def build(self) -> None:
        self._workspace()
        self._people()
        self._content()
        subscription = self._subscription()
        if subscription is not None and not self.plan.is_free:
            self._billing_history(subscription)
            self._extras(subscription)
        self._retention_cases()

    # --- workspace and members -------------------------------------------------------
    def _workspace(self) -> None:
        spec, rng = self.spec, self.rng
        if spec.status == "trialing":
            age_days = rng.randint(0, 12)
        elif spec.status in ("cancelled", "expired"):
            age_days = rng.randint(120, 1_600)
        else:
            age_days = rng.choice((rng.randint(20, 400), rng.randint(20, 1_600)))
        created = (self.now - dt.timedelta(days=age_days)).replace(
            hour=rng.randint(7, 20), minute=rng.randint(0, 59)
        )
        if spec.status != "trialing":  # renewals on day 1-28 of the month
            created = created.replace(day=rng.randint(1, 28))
        self.created = min(created, self.now - dt.timedelta(hours=1))
        if self.currency == "EUR":
            country = rng.choice(tuple(VAT_RATES))
        else:
            country = rng.choice(USD_COUNTRIES)
        vat_number = ""
        if rng.random() < 0.4 and country in VAT_RATES:
            vat_number = f"{country}{rng.randint(10**7, 10**9 - 1)}"
        if spec.owner is not None:
            # The demo customer's own workspaces: eight months of history, local VAT.
            self.created = (self.now - dt.timedelta(days=240)).replace(day=5, hour=10)
            country, vat_number = ("LU" if self.currency == "EUR" else "US"), ""
        owner = spec.owner or self._user("owner")
        self.workspace = self.batch.add(
            WorkspaceFactory.build(
                name=spec.name,
                slug=spec.slug,
                owner=owner,
                billing_email=(
                    owner.email if rng.random() < 0.7 or spec.owner else f"billing@{spec.slug}.test"
                ),
                country=country,
                vat_number=vat_number,
                created_at=self.created,
                last_activity_at=self.now - dt.timedelta(hours=rng.randint(1, 24 * 20)),
            )
        )
        self.owner = owner

    def _user(self, role: str) -> User:
        first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
        self.user_count += 1
        return self.batch.add(
            User(
                email=f"{role}{self.user_count}@{self.spec.slug}.example.test",
                full_name=f"{first} {last}",
                password=self.ctx.customer_password,
                date_joined=self.created,
            )
        )

    def _people(self) -> None:
        rng = self.rng
        self._member(self.owner, WorkspaceMember.Role.OWNER)
        if rng.random() < 0.4:
            self._member(self._user("billing"), WorkspaceMember.Role.BILLING_ADMIN)
        seat_room = (self.plan.seat_limit or 10) - 2
        for _ in range(rng.randint(0, min(4, max(seat_room, 0)))):
            self._member(self._user("member"), WorkspaceMember.Role.MEMBER)

    def _member(self, user: User, role: str) -> None:
        self.batch.add(
            WorkspaceMember(
                workspace=self.workspace,
                user=user,
                role=role,
                joined_at=self.created + dt.timedelta(days=self.rng.randint(0, 30)),
            )
        )

    def _content(self) -> None:
        rng, ws = self.rng, self.workspace
        module_count = rng.randint(0, min(4, self.plan.module_limit or 4))
        codes = rng.sample(MODULE_CODES, module_count)
        if self.spec.slug == "acme":
            codes = ["membership", "events"]
        for code in codes:
            self.batch.add(WorkspaceModule(workspace=ws, code=code, enabled_at=self.created))
        total = 0
        for number in range(rng.randint(0, 3)):
            size = rng.randint(1, 400)
            total += size
            self.batch.add(
                StoredFile(
                    workspace=ws,
                    name=f"{rng.choice(('minutes', 'roster', 'poster', 'budget'))}-{number}.pdf",
                    size_mb=size,
                    uploaded_by=self.owner,
                    uploaded_at=self.created + dt.timedelta(days=rng.randint(1, 60)),
                )
            )
        ws.storage_used_mb = total
        if "membership" in codes and self.spec.policy_slug == "orgix":
            self._internal_memberships()

    def _internal_memberships(self) -> None:
        rng = self.rng
        for number in range(rng.randint(1, 6)):
            provider = rng.choice(InternalMembership.Provider.values[:2])
            reference = f"{'ch' if provider == 'stripe' else 'hp'}_{rng.getrandbits(48):012x}"
            if provider == InternalMembership.Provider.STRIPE:
                metadata = {
                    "stripe_account": f"acct_{rng.getrandbits(40):010x}",
                    "charge": reference,
                }
            else:
                metadata = {"hivepay_merchant": f"m-{rng.randint(1000, 9999)}", "txn": reference}
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            self.batch.add(
                InternalMembership(
                    workspace=self.workspace,
                    member_name=f"{first} {last}",
                    member_email=f"{first}.{last}{number}@members.test".lower(),
                    status=rng.choices(InternalMembership.Status.values, (70, 10, 12, 8))[0],
                    price=Decimal(rng.choice(("15.00", "30.00", "60.00", "120.00"))),
                    currency="EUR",
                    provider=provider,
                    provider_reference=reference,
                    metadata=metadata,
                    created_at=self.created + dt.timedelta(days=rng.randint(1, 90)),
                )
            )

    # --- subscription --------------------------------------------------------------
    def _subscription(self) -> Subscription | None:
        spec, rng, now = self.spec, self.rng, self.now
        status = spec.status
        months = 12 if spec.interval == Plan.Interval.YEAR else 1
        started = self.created
        fields: dict = {}
        if status == "trialing":
            start, end = started, started + dt.timedelta(days=14)
            fields["trial_end"] = end
        elif status in ("cancelled", "expired"):
            ended = now - dt.timedelta(days=rng.randint(1, max(1, (now - started).days - 40)))
            start = started
            while add_months(start, months) < ended:
                start = add_months(start, months)
            end = add_months(start, months)
            fields["ended_at"] = end if end <= now else ended
            if status == "cancelled":
                fields["cancelled_at"] = start + (end - start) / 2
        else:
            start, end = current_period(started, months, now)
        if status == "past_due":
            fields.update(
                past_due_since=start,
                dunning_attempts=rng.randint(1, 3),
                next_retry_at=now + dt.timedelta(days=rng.randint(1, 3)),
            )
        elif status == "suspended":
            fields.update(past_due_since=start - dt.timedelta(days=10), dunning_attempts=4)
        elif status == "active" and not self.plan.is_free and (rng.random() < 0.1 or self._is(6)):
            fields.update(
                cancel_at_period_end=True,
                cancel_effective_at=end,
                cancelled_at=now - dt.timedelta(days=rng.randint(0, 5)),
            )
        if not self.plan.is_free and rng.random() < 0.15:
            fields["discount_percent"] = Decimal(rng.choice((10, 20)))
        subscription = self.batch.add(
            SubscriptionFactory.build(
                workspace=self.workspace,
                plan=self.plan,
                policy=self.ctx.policies[spec.policy_slug],
                status=status,
                started_at=started,
                current_period_start=start,
                current_period_end=end,
                orders_used_this_period=rng.randint(0, (self.plan.orders_per_month_limit or 50)),
                **fields,
            )
        )
        self._workspace_follows(subscription)
        return subscription

    def _workspace_follows(self, subscription: Subscription) -> None:
        """Workspace status and retention dates that match the subscription."""
        ws, policy = self.workspace, self.spec.policy_slug
        if subscription.status == "suspended":
            ws.status = Workspace.Status.SUSPENDED
            ws.suspension_reason = Workspace.SuspensionReason.NON_PAYMENT
        elif subscription.status in ("cancelled", "expired"):
            ws.ended_at = subscription.ended_at
            ws.last_activity_at = subscription.ended_at - dt.timedelta(days=self.rng.randint(0, 20))
            if policy in ("connex", "sync-with-connex"):
                ws.status = Workspace.Status.DISABLED
            elif policy == "prorated-credit":
                ws.status = Workspace.Status.RESTRICTED
            else:
                start, end = current_period(subscription.ended_at, 1, self.now)
                self.batch.add(
                    SubscriptionFactory.build(
                        workspace=ws,
                        plan=self.ctx.plans[(policy, 0, Plan.Interval.NONE)],
                        policy=self.ctx.policies[policy],
                        status=Subscription.Status.ACTIVE,
                        started_at=subscription.ended_at,
                        current_period_start=start,
                        current_period_end=end,
                    )
                )

    # --- payments --------------------------------------------------------------------
    def _billing_history(self, subscription: Subscription) -> None:
        if subscription.status == "trialing":
            return
        months = 12 if self.plan.interval == Plan.Interval.YEAR else 1
        starts = [subscription.started_at]
        while starts[-1] < subscription.current_period_start:
            starts.append(add_months(starts[-1], months))
        net = self.plan.price * (1 - Decimal(subscription.discount_percent) / 100)
        for index, start in enumerate(starts[-PAYMENT_HISTORY:]):
            last = index == len(starts[-PAYMENT_HISTORY:]) - 1
            failed = last and subscription.status in ("past_due", "suspended")
            self._payment(
                subscription,
                Payment.Kind.SUBSCRIPTION,
                net,
                start,
                period=(start, add_months(start, months)),
                failed=failed,
            )
        policy = self.spec.policy_slug
        if policy == "connex" and self.spec.tier >= 2:
            self._implementation(subscription)
        if policy == "sync-with-connex" and self.plan.interval == Plan.Interval.YEAR:
            self._payment(subscription, Payment.Kind.ACTIVATION_FEE, ACTIVATION_FEE, starts[0])
        if self.rng.random() < 0.08:
            amount = round_money(self.plan.price * self.rng.randint(10, 60) / 100, self.currency)
            self._payment(
                subscription,
                Payment.Kind.UPGRADE_PRORATION,
                amount,
                subscription.current_period_start + dt.timedelta(days=3),
            )

    def _payment(
        self,
        subscription: Subscription,
        kind: str,
        net: Decimal,
        paid_at: dt.datetime,
        *,
        period: tuple[dt.datetime, dt.datetime] | None = None,
        failed: bool = False,
    ) -> Payment:
        rng, ws = self.rng, self.workspace
        tax = Decimal(0)
        reverse_charge = ws.vat_number and ws.country != "LU"
        if self.currency == "EUR" and not reverse_charge:
            tax = round_money(net * VAT_RATES[ws.country] / 100, "EUR")
        provider = Payment.Provider.STRIPE if rng.random() < 0.8 else Payment.Provider.LOCAL
        prefix = "ch" if provider == Payment.Provider.STRIPE else "inv"
        payment = self.batch.add(
            Payment(
                subscription=subscription,
                workspace=ws,
                kind=kind,
                status=Payment.Status.FAILED if failed else Payment.Status.SUCCEEDED,
                amount=round_money(net, self.currency) + tax,
                tax=tax,
                currency=self.currency,
                paid_at=paid_at,
                period_start=period[0] if period else None,
                period_end=period[1] if period else None,
                provider=provider,
                provider_reference=f"{prefix}_{rng.getrandbits(64):016x}",
                failure_message="card_declined: insufficient funds" if failed else "",
            )
        )
        self.payments.append(payment)
        return payment

    def _implementation(self, subscription: Subscription) -> None:
        """Connex implementation fee and the services it covers, each with its date."""
        start = subscription.started_at
        fee = sum(price for _, price, _ in IMPLEMENTATION_SERVICES)
        self._payment(subscription, Payment.Kind.IMPLEMENTATION_FEE, fee, start)
        for kind, price, after_days in IMPLEMENTATION_SERVICES:
            done = start + dt.timedelta(days=after_days + self.rng.randint(0, 5))
            self.batch.add(
                OnboardingServiceFactory.build(
                    subscription=subscription,
                    kind=kind,
                    price=price,
                    completed_at=done if done < self.now else None,
                )
            )
        if self.rng.random() < 0.3:
            self.batch.add(
                OnboardingServiceFactory.build(
                    subscription=subscription,
                    kind=OnboardingService.Kind.CUSTOMIZATION,
                    price=Decimal("600.00"),
                    completed_at=start + dt.timedelta(days=20),
                )
            )
            self._payment(subscription, Payment.Kind.ONE_TIME_PURCHASE, Decimal("600.00"), start)

    def _extras(self, subscription: Subscription) -> None:
        rng = self.rng
        if subscription.status == "trialing":
            return
        start = subscription.current_period_start
        if rng.random() < 0.25 or self.spec.slug in ("acme", "acme-connex"):
            kind, quantity, price = rng.choice(
                (
                    (AddOn.Kind.EXTRA_SEATS, 5, Decimal("25.00")),
                    (AddOn.Kind.EXTRA_STORAGE, 10_240, Decimal("10.00")),
                    (AddOn.Kind.EXTRA_MODULES, 1, Decimal("15.00")),
                )
            )
            self._addon(subscription, kind, quantity, price, start, None)
            self._payment(subscription, Payment.Kind.ADD_ON, price, start)
        if rng.random() < 0.1:
            self._addon(
                subscription, AddOn.Kind.ORDER_PACK, 500, Decimal("49.00"), start,
                subscription.current_period_end,
            )  # fmt: skip
            self._payment(subscription, Payment.Kind.ONE_TIME_PURCHASE, Decimal("49.00"), start)
        if subscription.status == "suspended" and (rng.random() < 0.5 or self.showcase):
            self._dispute(Dispute.Status.OPEN)
        elif subscription.status == "active" and rng.random() < 0.03:
            self._dispute(rng.choice((Dispute.Status.WON, Dispute.Status.LOST)))
        if subscription.cancel_at_period_end:
            self._cancellation(subscription, CancellationRequest.Status.APPROVED)
        elif subscription.status == "active" and (rng.random() < 0.04 or self._is(5)):
            self._cancellation(
                subscription,
                rng.choice((CancellationRequest.Status.SUBMITTED, "in_review")),
            )
        if subscription.status == "cancelled" and (rng.random() < 0.4 or self.showcase):
            self._refund(subscription)
        if self.spec.policy_slug == "orgix" and (rng.random() < 0.02 or self._is(10)):
            self._review_request()

    def _is(self, index: int) -> bool:
        return self.showcase and self.spec.index == index

    def _addon(
        self,
        subscription: Subscription,
        kind: str,
        quantity: int,
        price: Decimal,
        start: dt.datetime,
        ends_at: dt.datetime | None,
    ) -> None:
        self.batch.add(
            AddOnFactory.build(
                subscription=subscription,
                kind=kind,
                quantity=quantity,
                price=price,
                currency=self.currency,
                started_at=start,
                ends_at=ends_at,
            )
        )

    def _paid(self) -> list[Payment]:
        return [p for p in self.payments if p.status == Payment.Status.SUCCEEDED]

    def _dispute(self, status: str) -> None:
        paid = self._paid()
        if not paid:
            return
        payment = paid[-1]
        opened = payment.paid_at + dt.timedelta(days=self.rng.randint(5, 40))
        if status == Dispute.Status.OPEN:
            self.workspace.suspension_reason = Workspace.SuspensionReason.CHARGEBACK
        elif status == Dispute.Status.LOST:
            payment.status = Payment.Status.LOST
        self.batch.add(
            Dispute(
                payment=payment,
                status=status,
                amount=payment.amount,
                currency=payment.currency,
                reason=self.rng.choice(("fraudulent", "product_not_received", "duplicate")),
                provider_reference=f"dp_{self.rng.getrandbits(64):016x}",
                opened_at=opened,
                closed_at=None if status == Dispute.Status.OPEN else opened + dt.timedelta(days=30),
            )
        )

    def _cancellation(self, subscription: Subscription, status: str) -> None:
        created = self.now - dt.timedelta(days=self.rng.randint(0, 6), hours=self.rng.randint(1, 9))
        decided = status == CancellationRequest.Status.APPROVED
        request = self.batch.add(
            CancellationRequest(
                workspace=self.workspace,
                subscription=subscription,
                requested_by=self.owner,
                status=status,
                reason=self.rng.choice(CancellationRequest.Reason.values),
                quote={},
                quoted_refund=Decimal(0),
                currency=self.currency,
                effective_at=subscription.current_period_end,
                decided_by=self.ctx.agent if decided else None,
                decided_at=created + dt.timedelta(hours=2) if decided else None,
                created_at=created,
            )
        )
        if decided:
            self._audit("cancellation.approve", request, created + dt.timedelta(hours=2))

    def _refund(self, subscription: Subscription) -> None:
        paid = [p for p in self._paid() if p.kind == Payment.Kind.SUBSCRIPTION]
        if not paid:
            return
        payment = paid[-1]
        amount = round_money(payment.amount / 2, self.currency)
        tax = round_money(payment.tax / 2, self.currency)
        to_credit = self.spec.policy_slug == "prorated-credit"
        payment.amount_refunded = amount
        decided = subscription.cancelled_at or payment.paid_at
        refund = self.batch.add(
            Refund(
                payment=payment,
                workspace=self.workspace,
                status=Refund.Status.SUCCEEDED,
                amount=amount,
                tax_amount=tax,
                currency=self.currency,
                destination=(
                    Refund.Destination.CUSTOMER_CREDIT
                    if to_credit
                    else Refund.Destination.ORIGINAL_PAYMENT_METHOD
                ),
                reason="Unused part of the period (demo data).",
                proposed_by=self.ctx.agent,
                decided_by=self.ctx.agent,
                decided_at=decided,
                idempotency_key=f"demo-refund-{self.spec.slug}",
                provider_reference="" if to_credit else f"re_{self.rng.getrandbits(64):016x}",
                attempts=0 if to_credit else 1,
                created_at=decided,
                completed_at=decided + dt.timedelta(hours=1),
            )
        )
        if to_credit:
            self.batch.add(
                CreditEntry(
                    workspace=self.workspace,
                    kind=CreditEntry.Kind.REFUND,
                    amount=amount,
                    currency=self.currency,
                    refund=refund,
                    payment=payment,
                    memo="Prorated credit for the unused period",
                    created_at=decided + dt.timedelta(hours=1),
                )
            )
        self._audit("refund.approve", refund, decided)

    def _review_request(self) -> None:
        paid = self._paid()
        if not paid:
            return
        payment = paid[-1]
        self.batch.add(
            RefundReviewRequest(
                workspace=self.workspace,
                submitted_by=self.owner,
                kind=RefundReviewRequest.Kind.ACCIDENTAL_RENEWAL,
                workspace_name=self.workspace.name,
                billing_email=self.workspace.billing_email,
                approximate_payment_date=payment.paid_at.date(),
                amount_charged=payment.amount,
                currency=payment.currency,
                explanation="We meant to cancel before the renewal (demo data).",
                created_at=self.now - dt.timedelta(days=self.rng.randint(0, 10)),
            )
        )

    # --- retention -------------------------------------------------------------------
    def _retention_cases(self) -> None:
        """Some long-inactive workspaces, some legal holds, some erased ones."""
        rng, ws = self.rng, self.workspace
        if self.spec.owner is not None:
            return
        if rng.random() < 0.1 and (self.plan.is_free or ws.ended_at):
            floor = max(400, (self.now - self.created).days // 2)
            days = rng.randint(
                min(floor, (self.now - self.created).days), (self.now - self.created).days
            )
            ws.last_activity_at = self.now - dt.timedelta(days=days)
        if rng.random() < 0.02:
            ws.legal_hold = True
            ws.legal_hold_reason = f"Litigation hold, case {rng.randint(1000, 9999)}"
            self._audit(
                "workspace.legal_hold", ws, self.now - dt.timedelta(days=rng.randint(1, 90))
            )
        if self.spec.index % 250 == 7:
            self.batch.add(
                DeletionTombstone(
                    workspace_id=10**12 + self.spec.index,
                    workspace_created_at=self.created,
                    last_activity_at=self.created + dt.timedelta(days=30),
                    deleted_at=self.now - dt.timedelta(days=rng.randint(1, 60)),
                    rule=DeletionTombstone.Rule.INACTIVITY,
                    policy=f"{self.spec.policy_slug}@1",
                    counts={"members": 2, "files": 3, "payments": 0},
                )
            )

    def _audit(self, action: str, target: models.Model, when: dt.datetime) -> None:
        """An audit row for a past decision; its ids are filled in once the target is saved."""
        record = AuditRecord(
            actor=self.ctx.agent,
            actor_label=self.ctx.agent.email,
            action=action,
            target_type=target._meta.label,
            created_at=when,
        )
        self.batch.add(record)
        self.batch.audit_targets.append((record, target, self.workspace))
