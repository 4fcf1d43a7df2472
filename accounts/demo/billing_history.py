"""The workspace's subscription, the payments of its past periods, add-ons and services."""

from __future__ import annotations

import datetime as dt
from calendar import isleap
from decimal import Decimal

from accounts.models import Workspace
from billing.models import AddOn, OnboardingService, Payment, Plan, Subscription
from billing.money import round_money

from .catalogue import ACTIVATION_FEE, IMPLEMENTATION_SERVICES, PAYMENT_HISTORY, VAT_RATES
from .rows import Row

DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def add_months(moment: dt.datetime, months: int) -> dt.datetime:
    """Same day-of-month `months` later, clamped to the last day of a shorter month.
    (`calendar.monthrange` computes a weekday too: too slow for millions of periods.)"""
    year, month = divmod(moment.month - 1 + months, 12)
    year, month = moment.year + year, month + 1
    last = 29 if month == 2 and isleap(year) else DAYS_IN_MONTH[month - 1]
    return moment.replace(year=year, month=month, day=min(moment.day, last))


def current_period(
    started: dt.datetime, months: int, now: dt.datetime
) -> tuple[dt.datetime, dt.datetime]:
    """The billing period, counted in `months` from `started`, that contains `now`."""
    start = started
    while add_months(start, months) <= now:
        start = add_months(start, months)
    return start, add_months(start, months)


class BillingHistoryMixin:
    def _subscription(self) -> Row | None:
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
                fields["cancelled_at"] = min(start + (end - start) / 2, fields["ended_at"])
        else:
            start, end = current_period(started, months, now)
        if status == "past_due":
            fields.update(
                past_due_since=start,
                dunning_attempts=rng.randint(1, 3),
                next_retry_at=now + dt.timedelta(days=rng.randint(1, 3)),
            )
        elif status == "suspended":
            fields.update(
                past_due_since=self._past(start - dt.timedelta(days=10)), dunning_attempts=4
            )
        elif status == "active" and not self.plan.is_free and (rng.random() < 0.1 or self._is(6)):
            fields.update(
                cancel_at_period_end=True,
                cancel_effective_at=end,
                cancelled_at=self._past(now - dt.timedelta(days=rng.randint(0, 5)), after=start),
            )
        if not self.plan.is_free and rng.random() < 0.15:
            fields["discount_percent"] = Decimal(rng.choice((10, 20)))
        subscription = self.batch.add(
            Subscription,
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
        self._workspace_follows(subscription)
        return subscription

    def _workspace_follows(self, subscription: Row) -> None:
        """Workspace status and retention dates that match the subscription."""
        ws, policy = self.workspace, self.spec.policy_slug
        if subscription.status == "suspended":
            ws.status = Workspace.Status.SUSPENDED
            ws.suspension_reason = Workspace.SuspensionReason.NON_PAYMENT
        elif subscription.status in ("cancelled", "expired"):
            ws.ended_at = subscription.ended_at
            idle = subscription.ended_at - dt.timedelta(days=self.rng.randint(0, 20))
            ws.last_activity_at = self._past(idle)
            if policy in ("connex", "sync-with-connex"):
                ws.status = Workspace.Status.DISABLED
            elif policy == "prorated-credit":
                ws.status = Workspace.Status.RESTRICTED
            else:
                start, end = current_period(subscription.ended_at, 1, self.now)
                self.batch.add(
                    Subscription,
                    workspace=ws,
                    plan=self.ctx.plans[(policy, 0, Plan.Interval.NONE)],
                    policy=self.ctx.policies[policy],
                    status=Subscription.Status.ACTIVE,
                    started_at=subscription.ended_at,
                    current_period_start=start,
                    current_period_end=end,
                )

    def _billing_history(self, subscription: Row) -> None:
        if subscription.status == "trialing":
            return
        months = 12 if self.plan.interval == Plan.Interval.YEAR else 1
        starts = [subscription.started_at]
        while starts[-1] < subscription.current_period_start:
            starts.append(add_months(starts[-1], months))
        net = self.plan.price * (1 - Decimal(subscription.discount_percent) / 100)
        recent = starts[-PAYMENT_HISTORY:]
        for index, start in enumerate(recent):
            failed = index == len(recent) - 1 and subscription.status in ("past_due", "suspended")
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
                self._past(subscription.current_period_start + dt.timedelta(days=3)),
            )

    def _payment(
        self,
        subscription: Row,
        kind: str,
        net: Decimal,
        paid_at: dt.datetime,
        *,
        period: tuple[dt.datetime, dt.datetime] | None = None,
        failed: bool = False,
    ) -> Row:
        rng, ws = self.rng, self.workspace
        tax = Decimal(0)
        reverse_charge = ws.vat_number and ws.country != "LU"
        if self.currency == "EUR" and not reverse_charge:
            tax = round_money(net * VAT_RATES[ws.country] / 100, "EUR")
        provider = Payment.Provider.STRIPE if rng.random() < 0.8 else Payment.Provider.LOCAL
        prefix = "ch" if provider == Payment.Provider.STRIPE else "inv"
        payment = self.batch.add(
            Payment,
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
        self.payments.append(payment)
        return payment

    def _implementation(self, subscription: Row) -> None:
        """Connex implementation fee and the services it covers, each with its date."""
        start = subscription.started_at
        fee = sum(price for _, price, _ in IMPLEMENTATION_SERVICES)
        self._payment(subscription, Payment.Kind.IMPLEMENTATION_FEE, fee, start)
        for kind, price, after_days in IMPLEMENTATION_SERVICES:
            done = start + dt.timedelta(days=after_days + self.rng.randint(0, 5))
            self.batch.add(
                OnboardingService,
                subscription=subscription,
                kind=kind,
                price=price,
                completed_at=done if done < self.now else None,
            )
        if self.rng.random() < 0.3:
            done = start + dt.timedelta(days=20)
            self.batch.add(
                OnboardingService,
                subscription=subscription,
                kind=OnboardingService.Kind.CUSTOMIZATION,
                price=Decimal("600.00"),
                completed_at=done if done < self.now else None,
            )
            self._payment(subscription, Payment.Kind.ONE_TIME_PURCHASE, Decimal("600.00"), start)

    def _extras(self, subscription: Row) -> None:
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
        self._cases(subscription)

    def _addon(
        self,
        subscription: Row,
        kind: str,
        quantity: int,
        price: Decimal,
        start: dt.datetime,
        ends_at: dt.datetime | None,
    ) -> None:
        self.batch.add(
            AddOn,
            subscription=subscription,
            kind=kind,
            quantity=quantity,
            price=price,
            currency=self.currency,
            started_at=start,
            ends_at=ends_at,
        )

    def _paid(self) -> list[Row]:
        return [p for p in self.payments if p.status == Payment.Status.SUCCEEDED]
