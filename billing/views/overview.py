"""What the portal's home page says about each of a customer's workspaces: plan, price,
where the subscription stands, credit, and which pages apply (with the reason when one
does not). Read-only; a fixed number of queries however many workspaces the user has."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import OuterRef, Subquery, Sum

from accounts.models import User, Workspace, WorkspaceMember
from billing.models import CancellationRequest, CreditEntry, Subscription
from billing.money import round_money


@dataclass(frozen=True)
class PageLink:
    """A portal page for this workspace: a link, or the reason it does not apply."""

    label: str
    url_name: str = ""
    why_not: str = ""


@dataclass
class WorkspaceOverview:
    membership: WorkspaceMember
    subscription: Subscription | None
    latest_request: CancellationRequest | None
    credit: list[tuple[str, Decimal]] = field(default_factory=list)

    @property
    def workspace(self) -> Workspace:
        return self.membership.workspace

    @property
    def standing(self) -> str:
        """The subscription's state in words: what the customer has right now."""
        subscription = self.subscription
        if subscription is None:
            return "No subscription"
        if not subscription.is_live:
            ended = subscription.ended_at or subscription.current_period_end
            return f"Ended on {ended:%-d %B %Y}"
        if subscription.cancel_effective_at is not None:
            return "Cancelled"
        if subscription.status == Subscription.Status.PAUSED:
            return f"Paused until {subscription.resumes_at:%-d %B %Y}"
        return subscription.get_status_display()

    @property
    def standing_tone(self) -> str:
        subscription = self.subscription
        if subscription is None or not subscription.is_live:
            return "bad"
        if subscription.cancel_effective_at or subscription.status != Subscription.Status.ACTIVE:
            return "warn"
        return "ok"

    @property
    def next_date(self) -> str:
        """The next renewal, or the end date once cancelled."""
        subscription = self.subscription
        if subscription is None:
            return "Nothing to renew"
        if not subscription.is_live:
            ended = subscription.ended_at or subscription.current_period_end
            return f"Ended on {ended:%-d %B %Y}"
        if subscription.plan.is_free:
            return "Free plan: nothing to renew"
        if subscription.cancel_effective_at is not None:
            return f"Ends on {subscription.cancel_effective_at:%-d %B %Y}"
        if subscription.status == Subscription.Status.PAUSED:
            return (
                f"Resumes on {subscription.resumes_at:%-d %B %Y}, "
                f"renews on {subscription.current_period_end:%-d %B %Y}"
            )
        if subscription.status == Subscription.Status.TRIALING and subscription.trial_end:
            return f"Trial ends on {subscription.trial_end:%-d %B %Y}"
        return f"Renews on {subscription.current_period_end:%-d %B %Y}"

    @property
    def can_resume(self) -> bool:
        subscription = self.subscription
        return (
            self.membership.can_manage_billing
            and subscription is not None
            and subscription.status == Subscription.Status.PAUSED
        )

    @property
    def links(self) -> list[PageLink]:
        return [
            self._cancel_link(),
            self._status_link(),
            PageLink("Ask for a billing review", "billing:review"),
            self._billing_link("Credit", "billing:workspace-credit"),
            self._export_link(),
        ]

    def _cancel_link(self) -> PageLink:
        label = "Cancel subscription"
        subscription = self.subscription
        if not self.membership.can_manage_billing:
            return PageLink(label, why_not="Only the owner or a billing admin can cancel.")
        if subscription is None:
            return PageLink(label, why_not="There is no subscription to cancel.")
        if not subscription.is_live:
            return PageLink(label, why_not="The subscription has ended.")
        if subscription.plan.is_free:
            return PageLink(label, why_not="The Free plan has nothing to cancel.")
        if self.latest_request is not None and self.latest_request.is_open:
            return PageLink(label, why_not="A cancellation request is open: see its status.")
        if subscription.cancel_effective_at is not None:
            ends = subscription.cancel_effective_at
            return PageLink(label, why_not=f"Already cancelled: it ends on {ends:%-d %B %Y}.")
        return PageLink(label, "billing:cancellation")

    def _status_link(self) -> PageLink:
        label = "Cancellation status"
        if not self.membership.can_manage_billing:
            return PageLink(label, why_not="Only the owner or a billing admin can see it.")
        if self.latest_request is None:
            return PageLink(label, why_not="No cancellation was requested.")
        return PageLink(label, "billing:cancellation-status")

    def _billing_link(self, label: str, url_name: str) -> PageLink:
        if not self.membership.can_manage_billing:
            return PageLink(label, why_not="Only the owner or a billing admin can see it.")
        return PageLink(label, url_name)

    def _export_link(self) -> PageLink:
        label = "Export data"
        if self.membership.role != WorkspaceMember.Role.OWNER:
            return PageLink(label, why_not="Only the owner can download the workspace's data.")
        return PageLink(label, "accounts:workspace-export")


def _current_subscriptions(workspace_ids: list[int]) -> dict[int, Subscription]:
    """Per workspace: its live subscription, else the one that ended last."""
    current: dict[int, Subscription] = {}
    rows = (
        Subscription.objects.filter(workspace_id__in=workspace_ids)
        .select_related("plan")
        .order_by("workspace_id", "-started_at", "-pk")
    )
    for subscription in rows:
        held = current.get(subscription.workspace_id)
        if held is None or (subscription.is_live and not held.is_live):
            current[subscription.workspace_id] = subscription
    return current


def _credit(workspace_ids: list[int]) -> dict[int, list[tuple[str, Decimal]]]:
    totals: dict[int, list[tuple[str, Decimal]]] = {}
    rows = (
        CreditEntry.objects.filter(workspace_id__in=workspace_ids)
        .values("workspace_id", "currency")
        .annotate(total=Sum("amount"))
        .order_by("workspace_id", "currency")
    )
    for row in rows:
        if row["total"]:
            totals.setdefault(row["workspace_id"], []).append(
                (row["currency"], round_money(row["total"], row["currency"]))
            )
    return totals


def workspace_overviews(user: User) -> list[WorkspaceOverview]:
    latest_request = (
        CancellationRequest.objects.filter(workspace=OuterRef("workspace"))
        .order_by("-created_at", "-pk")
        .values("pk")[:1]
    )
    memberships = list(
        WorkspaceMember.objects.filter(user=user)
        .exclude(workspace__status=Workspace.Status.DELETED)
        .select_related("workspace")
        .annotate(latest_request_id=Subquery(latest_request))
        .order_by("workspace__name")
    )
    workspace_ids = [membership.workspace_id for membership in memberships]
    subscriptions = _current_subscriptions(workspace_ids)
    credit = _credit(workspace_ids)
    requests = CancellationRequest.objects.in_bulk(
        [m.latest_request_id for m in memberships if m.latest_request_id]
    )
    return [
        WorkspaceOverview(
            membership=membership,
            subscription=subscriptions.get(membership.workspace_id),
            latest_request=requests.get(membership.latest_request_id),
            credit=credit.get(membership.workspace_id, []),
        )
        for membership in memberships
    ]
