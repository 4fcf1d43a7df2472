"""The cancellation queue: oldest first, every action through a service and audited."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince

from accounts.admin.workspaces import RELATED_SEARCH_HELP, WORKSPACE_SEARCH
from backoffice.admin_buttons import RecordButton, RecordButtonsAdmin
from backoffice.admin_guard import GuardedAdmin
from backoffice.admin_mixins import LargeTableAdmin, money
from backoffice.admin_queues import CsvExportAdmin
from backoffice.display import local_date, local_datetime
from billing.admin.cancellation_filters import (
    AgeFilter,
    AssignedFilter,
    CancellationQueueFilter,
    PlanIntervalFilter,
    PolicyFilter,
)
from billing.admin.display import data_kept_line, render_stored_quote, staff_name
from billing.errors import DomainError
from billing.models import CancellationRequest
from billing.money import format_money
from billing.services.cancellations import (
    cancellation_approve,
    cancellation_assign,
    cancellation_reject,
)


class RejectForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        max_length=2000,
        help_text="The customer sees this reason.",
    )


def _table(headers: list[str], rows) -> str:
    head = format_html_join("", "<th>{}</th>", ((h,) for h in headers))
    body = format_html_join(
        "",
        "<tr>{}</tr>",
        ((format_html_join("", "<td>{}</td>", ((c,) for c in row)),) for row in rows),
    )
    return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", head, body)


@admin.register(CancellationRequest)
class CancellationRequestAdmin(CsvExportAdmin, RecordButtonsAdmin, GuardedAdmin, LargeTableAdmin):
    list_display = [
        "id",
        "status",
        "workspace_name",
        "plan",
        "policy",
        "refund_display",
        "reason",
        "age",
        "assignee",
    ]
    list_filter = [
        CancellationQueueFilter,
        AssignedFilter,
        PolicyFilter,
        PlanIntervalFilter,
        "reason",
        AgeFilter,
    ]
    search_fields = [f"workspace__{field}" for field in WORKSPACE_SEARCH]
    search_help_text = RELATED_SEARCH_HELP
    list_select_related = ["workspace", "subscription__plan", "subscription__policy", "assigned_to"]
    ordering = ["created_at", "pk"]
    actions = ["assign_to_me", "approve", "bulk_approve_without_refund", "reject"]
    change_list_template = "admin/queue_change_list.html"
    csv_filename = "cancellation-requests"
    refund_display = money("quoted_refund", description="quoted refund")
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "workspace_link",
                    "status",
                    "reason",
                    "reason_text",
                    "requested_by",
                    "assigned_to",
                    "created_at",
                    "decided_by",
                    "decided_at",
                    "rejection_reason",
                    "completed_at",
                ]
            },
        ),
        ("Quote (as the customer confirmed it)", {"fields": ["quote_table"]}),
        ("Retention timeline", {"fields": ["retention_timeline"]}),
        (
            "Subscription",
            {"fields": ["subscription_summary", "payments", "services", "addons"]},
        ),
    ]
    readonly_fields = flatten_fieldsets(fieldsets)  # the queue is processed by actions only
    addable = False

    def has_process_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("billing.process_cancellation")

    # --- queue columns (no per-row queries: everything comes from list_select_related)

    @admin.display(description="workspace", ordering="workspace__name")
    def workspace_name(self, obj: CancellationRequest) -> str:
        return format_html("{}<small>{}</small>", obj.workspace.name, obj.workspace.slug)

    @admin.display(description="plan", ordering="subscription__plan__name")
    def plan(self, obj: CancellationRequest) -> str:
        plan = obj.subscription.plan
        return f"{plan.name} / {plan.get_interval_display().lower()}"

    @admin.display(description="policy", ordering="subscription__policy__slug")
    def policy(self, obj: CancellationRequest) -> str:
        return obj.subscription.policy.label

    @admin.display(description="assigned to", ordering="assigned_to__email")
    def assignee(self, obj: CancellationRequest) -> str:
        return staff_name(obj.assigned_to)

    @admin.display(description="age", ordering="created_at")
    def age(self, obj: CancellationRequest) -> str:
        return timesince(obj.created_at, timezone.now(), depth=1)

    # --- change page

    @admin.display(description="workspace")
    def workspace_link(self, obj: CancellationRequest) -> str:
        url = reverse("admin:accounts_workspace_change", args=[obj.workspace_id])
        return format_html('<a href="{}">{}</a>', url, obj.workspace)

    @admin.display(description="quote")
    def quote_table(self, obj: CancellationRequest) -> str:
        return render_stored_quote(
            obj.quote,
            workspace=obj.workspace,
            policy_id=obj.subscription.policy_id,
            at=obj.created_at,
        )

    @admin.display(description="timeline")
    def retention_timeline(self, obj: CancellationRequest) -> str:
        q = obj.quote
        url = reverse("admin:accounts_workspace_change", args=[obj.workspace_id])
        rows = [
            ["Requested", local_datetime(obj.created_at)],
            ["Last day of access", local_datetime(q.get("access_until"))],
            ["Subscription ends", local_datetime(q.get("ends_at"))],
            [
                "Data kept until",
                data_kept_line(
                    obj.workspace,
                    obj.subscription.policy_id,
                    q["ends_at"],
                    active_at=obj.created_at,
                ),
            ],
        ]
        return format_html(
            '{}<p><a href="{}">Workspace page: full retention timeline and legal hold</a></p>',
            _table(["Step", "When"], rows),
            url,
        )

    @admin.display(description="subscription")
    def subscription_summary(self, obj: CancellationRequest) -> str:
        s = obj.subscription
        url = reverse("admin:billing_subscription_change", args=[s.pk])
        return format_html(
            '<a href="{}">{}</a><br>period {} → {}; started {}; cancel effective {}',
            url,
            s,
            local_date(s.current_period_start),
            local_date(s.current_period_end),
            local_date(s.started_at),
            local_datetime(s.cancel_effective_at),
        )

    @admin.display(description="payments")
    def payments(self, obj: CancellationRequest) -> str:
        rows = [
            [
                p.pk,
                p.get_kind_display(),
                p.get_status_display(),
                format_money(p.amount, p.currency),
                format_money(p.amount_refunded, p.currency),
                local_date(p.paid_at),
            ]
            for p in obj.subscription.payments.order_by("paid_at")
        ]
        return _table(["#", "Kind", "Status", "Amount", "Refunded", "Paid"], rows)

    @admin.display(description="services rendered")
    def services(self, obj: CancellationRequest) -> str:
        rows = [
            [s.get_kind_display(), local_date(s.completed_at, empty="not yet rendered")]
            for s in obj.subscription.services.all()
        ]
        return _table(["Service", "Completed"], rows)

    @admin.display(description="add-ons")
    def addons(self, obj: CancellationRequest) -> str:
        rows = [
            [
                a.get_kind_display(),
                a.quantity,
                format_money(a.price, a.currency),
                local_date(a.started_at),
                local_date(a.ends_at),
            ]
            for a in obj.subscription.addons.all()
        ]
        return _table(["Add-on", "Qty", "Price", "From", "Until"], rows)

    # --- actions: each calls a service; the service writes the audit record

    def _each(self, request, queryset, label: str, call) -> None:
        done = 0
        for cancellation in queryset.order_by("created_at", "pk"):
            try:
                call(cancellation)
            except DomainError as exc:
                self.message_user(
                    request, f"#{cancellation.pk}: {exc.field}: {exc.message}", messages.ERROR
                )
            else:
                done += 1
        if done:
            self.message_user(request, f"{label}: {done} request(s).", messages.SUCCESS)

    @admin.action(description="Assign to me", permissions=["process"])
    def assign_to_me(self, request: HttpRequest, queryset: QuerySet) -> None:
        now = timezone.now()
        self._each(
            request,
            queryset,
            "Assigned to you",
            lambda c: cancellation_assign(request=c, agent=request.user, now=now),
        )

    @admin.action(
        description="Approve (as quoted; proposes the quoted refunds)", permissions=["process"]
    )
    def approve(self, request: HttpRequest, queryset: QuerySet) -> None:
        if queryset.count() != 1:
            self.message_user(
                request,
                "Approve one request at a time; use bulk approve for requests without a refund.",
                messages.WARNING,
            )
            return
        now = timezone.now()
        self._each(
            request,
            queryset,
            "Approved",
            lambda c: cancellation_approve(request=c, actor=request.user, now=now),
        )

    @admin.action(description="Bulk approve requests without a refund", permissions=["process"])
    def bulk_approve_without_refund(self, request: HttpRequest, queryset: QuerySet) -> None:
        skipped = list(queryset.filter(quoted_refund__gt=0).values_list("pk", flat=True))
        if skipped:
            listed = ", ".join(f"#{pk}" for pk in skipped)
            self.message_user(
                request,
                f"Skipped {len(skipped)} request(s) with a quoted refund: {listed}. "
                "Approve them one at a time.",
                messages.WARNING,
            )
        now = timezone.now()
        self._each(
            request,
            queryset.filter(quoted_refund=0),
            "Approved",
            lambda c: cancellation_approve(request=c, actor=request.user, now=now),
        )

    @admin.action(description="Bulk reject with one reason…", permissions=["process"])
    def reject(self, request: HttpRequest, queryset: QuerySet):
        form = RejectForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            now = timezone.now()
            reason = form.cleaned_data["reason"]
            self._each(
                request,
                queryset,
                "Rejected",
                lambda c: cancellation_reject(
                    request=c, actor=request.user, reason=reason, now=now
                ),
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Reject cancellation requests",
            "opts": self.model._meta,
            "queryset": queryset,
            "form": form,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/billing/cancellationrequest/reject.html", context)

    # --- buttons on the request page: the same services as the actions above

    def record_buttons(self, request, obj: CancellationRequest) -> list[RecordButton]:
        if not obj.is_open:
            closed = f"The request is {obj.get_status_display().lower()}: nothing left to decide."
        else:
            closed = ""
        may = "" if self.has_process_permission(request) else "You may not process requests."
        blocked = closed or may
        mine = obj.assigned_to_id == request.user.pk
        refund = format_money(obj.quoted_refund, obj.currency)
        approve_label = (
            f"Approve and propose the {refund} refund" if obj.quoted_refund > 0 else "Approve"
        )
        return [
            RecordButton(
                "assign", "Assign to me", blocked=blocked or ("Assigned to you." if mine else "")
            ),
            RecordButton("approve", approve_label, blocked=blocked, primary=True),
            RecordButton(
                "reject",
                "Reject…",
                blocked=blocked,
                asks="Reason (shown to the customer)",
                help_text="The customer sees this reason on their page and in the email.",
            ),
        ]

    def do_assign(self, request, obj, data) -> str:
        cancellation_assign(request=obj, agent=request.user, now=timezone.now())
        return f"Cancellation #{obj.pk} assigned to you."

    def do_approve(self, request, obj, data) -> str:
        approved = cancellation_approve(request=obj, actor=request.user, now=timezone.now())
        proposed = approved.refunds.count()
        if proposed:
            return f"Cancellation #{obj.pk} approved; {proposed} refund proposal(s) await approval."
        return f"Cancellation #{obj.pk} approved."

    def do_reject(self, request, obj, data) -> str:
        cancellation_reject(
            request=obj, actor=request.user, reason=data["text"], now=timezone.now()
        )
        return f"Cancellation #{obj.pk} rejected; the customer sees your reason."
