"""Builds one demo workspace and everything it owns into a batch of unsaved rows.

Each subdomain lives in its own module (people and content, subscription and payments,
support cases, retention); `WorkspaceBuilder` combines them. Every date is consistent
with `now` and with the workspace: nothing that happened is dated in the future, and no
activity precedes the workspace's creation (`_past`). Scheduled dates (a period end, the
next dunning retry) are the only ones after `now`.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from accounts.models import User
from billing.models import Plan, RefundPolicy

from .billing_history import BillingHistoryMixin
from .cases import CasesMixin
from .catalogue import CATALOGUE
from .people import PeopleMixin
from .retention import RetentionMixin
from .rows import Batch, Row


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


class WorkspaceBuilder(PeopleMixin, BillingHistoryMixin, CasesMixin, RetentionMixin):
    """Builds one workspace and everything it owns into a `Batch` (nothing is saved)."""

    def __init__(self, spec: WorkspaceSpec, context: Context, batch: Batch):
        self.spec = spec
        self.ctx = context
        self.now = context.now
        self.batch = batch
        self.rng = random.Random(f"{context.seed}:{spec.slug}")
        self.currency = CATALOGUE[spec.policy_slug][0]
        self.plan = context.plans[(spec.policy_slug, spec.tier, spec.interval)]
        self.payments: list[Row] = []
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

    def _past(self, moment: dt.datetime, *, after: dt.datetime | None = None) -> dt.datetime:
        """`moment` moved into [`after` (default: the workspace's creation), now]."""
        return min(max(moment, after or self.created), self.now)

    def _is(self, index: int) -> bool:
        return self.showcase and self.spec.index == index
