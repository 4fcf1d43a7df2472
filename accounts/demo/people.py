"""The workspace itself, its people (owner, billing admin, members) and its content."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from accounts.models import InternalMembership, StoredFile, User, Workspace, WorkspaceMember
from accounts.models import WorkspaceModule as Module

from .catalogue import FIRST_NAMES, LAST_NAMES, MODULE_CODES, USD_COUNTRIES, VAT_RATES
from .rows import Row


class PeopleMixin:
    def _workspace(self) -> None:
        spec, rng, now = self.spec, self.rng, self.now
        if spec.status == "trialing":
            age_days = rng.randint(0, 12)
        elif spec.status in ("cancelled", "expired"):
            age_days = rng.randint(120, 1_600)
        else:
            age_days = rng.choice((rng.randint(20, 400), rng.randint(20, 1_600)))
        created = (now - dt.timedelta(days=age_days)).replace(
            hour=rng.randint(7, 20), minute=rng.randint(0, 59)
        )
        if spec.status != "trialing":  # renewals on day 1-28 of the month
            created = created.replace(day=rng.randint(1, 28))
        self.created = min(created, now - dt.timedelta(hours=1))
        if self.currency == "EUR":
            country = rng.choice(tuple(VAT_RATES))
        else:
            country = rng.choice(USD_COUNTRIES)
        vat_number = ""
        if rng.random() < 0.4 and country in VAT_RATES:
            vat_number = f"{country}{rng.randint(10**7, 10**9 - 1)}"
        if spec.owner is not None:
            # The demo customer's own workspaces: eight months of history, local VAT.
            self.created = (now - dt.timedelta(days=240)).replace(day=5, hour=10)
            country, vat_number = ("LU" if self.currency == "EUR" else "US"), ""
        owner = spec.owner or self._user("owner")
        billing_email = (
            owner.email if rng.random() < 0.7 or spec.owner else f"billing@{spec.slug}.test"
        )
        last_activity = now - dt.timedelta(hours=rng.randint(1, 24 * 20))
        self.workspace = self.batch.add(
            Workspace,
            name=spec.name,
            slug=spec.slug,
            owner=owner,
            billing_email=billing_email,
            country=country,
            vat_number=vat_number,
            created_at=self.created,
            last_activity_at=self._past(last_activity),
        )
        self.owner = owner

    def _user(self, role: str) -> Row:
        first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
        self.user_count += 1
        return self.batch.add(
            User,
            email=f"{role}{self.user_count}@{self.spec.slug}.example.test",
            full_name=f"{first} {last}",
            password=self.ctx.customer_password,
            date_joined=self.created,
        )

    def _people(self) -> None:
        rng = self.rng
        self._member(self.owner, WorkspaceMember.Role.OWNER)
        if rng.random() < 0.4:
            self._member(self._user("billing"), WorkspaceMember.Role.BILLING_ADMIN)
        seat_room = (self.plan.seat_limit or 10) - 2
        for _ in range(rng.randint(0, min(4, max(seat_room, 0)))):
            self._member(self._user("member"), WorkspaceMember.Role.MEMBER)

    def _member(self, user, role: str) -> None:
        joined = self.created + dt.timedelta(days=self.rng.randint(0, 30))
        self.batch.add(
            WorkspaceMember,
            workspace=self.workspace,
            user=user,
            role=role,
            joined_at=self._past(joined),
        )

    def _content(self) -> None:
        rng, ws = self.rng, self.workspace
        module_count = rng.randint(0, min(4, self.plan.module_limit or 4))
        codes = rng.sample(MODULE_CODES, module_count)
        if self.spec.slug == "acme":
            codes = ["membership", "events"]
        for code in codes:
            self.batch.add(Module, workspace=ws, code=code, enabled_at=self.created)
        total = 0
        for number in range(rng.randint(0, 3)):
            size = rng.randint(1, 400)
            total += size
            uploaded = self.created + dt.timedelta(days=rng.randint(1, 60))
            self.batch.add(
                StoredFile,
                workspace=ws,
                name=f"{rng.choice(('minutes', 'roster', 'poster', 'budget'))}-{number}.pdf",
                size_mb=size,
                uploaded_by=self.owner,
                uploaded_at=self._past(uploaded),
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
            created = self.created + dt.timedelta(days=rng.randint(1, 90))
            self.batch.add(
                InternalMembership,
                workspace=self.workspace,
                member_name=f"{first} {last}",
                member_email=f"{first}.{last}{number}@members.test".lower(),
                status=rng.choices(InternalMembership.Status.values, (70, 10, 12, 8))[0],
                price=Decimal(rng.choice(("15.00", "30.00", "60.00", "120.00"))),
                currency="EUR",
                provider=provider,
                provider_reference=reference,
                metadata=metadata,
                created_at=self._past(created),
            )
