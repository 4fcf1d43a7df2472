"""No money, plan, status, ownership or lifecycle field changes through a record page.

For every admin, each field outside the (short, listed) safe set is posted with a new
value by a superuser, and the row must not change. Pages with nothing safe to edit show no
Save button and refuse the POST; the safe fields of the others save and are audited."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.db import models
from django.urls import reverse

from accounts.models import (
    AuditRecord,
    InternalMembership,
    StoredFile,
    Workspace,
    WorkspaceMember,
    WorkspaceModule,
)
from billing.models import (
    AddOn,
    CancellationRequest,
    CreditEntry,
    Dispute,
    Payment,
    Plan,
    Refund,
    RefundReviewRequest,
    Subscription,
)
from billing.services.cancellations import cancellation_submit
from tests.factories import (
    AddOnFactory,
    OnboardingServiceFactory,
    PaymentFactory,
    PlanFactory,
    UserFactory,
    WorkspaceMemberFactory,
)
from tests.factories.cancellations import paid_subscription
from tests.factories.refunds import DisputeFactory, RefundFactory, review_for
from tests.factories.retention import (
    InternalMembershipFactory,
    StoredFileFactory,
    WorkspaceModuleFactory,
)

pytestmark = pytest.mark.django_db

# The only fields an agent edits by hand, per model (everything else is guarded).
SAFE_FIELDS: dict[type[models.Model], set[str]] = {
    Workspace: {"name", "billing_email"},
    Plan: {"name", "is_active"},  # a plan in use
    RefundReviewRequest: {"workspace"},  # before the requester is verified
}
GUARDED_MODELS = [
    Subscription,
    Payment,
    Refund,
    CreditEntry,
    CancellationRequest,
    RefundReviewRequest,
    Dispute,
    AddOn,
    Plan,
    Workspace,
    WorkspaceMember,
    WorkspaceModule,
    StoredFile,
    InternalMembership,
]


def _world():
    """One of each record, on a paid subscription with an add-on and a service."""
    subscription = paid_subscription("orgix")
    workspace = subscription.workspace
    AddOnFactory(subscription=subscription)
    OnboardingServiceFactory(subscription=subscription)
    payment = PaymentFactory(subscription=subscription)
    RefundFactory(payment=payment, proposed_by=UserFactory())
    CreditEntry.objects.create(
        workspace=workspace,
        kind="adjustment",
        amount=Decimal("5.00"),
        currency="EUR",
        created_at=workspace.created_at,
    )
    cancellation_submit(
        workspace=workspace,
        actor=workspace.owner,
        reason="too_expensive",
        reason_text="",
        now=subscription.current_period_start + dt.timedelta(days=3),
    )
    review_for(payment)
    DisputeFactory(payment=payment)
    WorkspaceMemberFactory(workspace=workspace)
    WorkspaceModuleFactory(workspace=workspace)
    StoredFileFactory(workspace=workspace)
    InternalMembershipFactory(workspace=workspace)
    return subscription


@pytest.fixture
def records():
    first, _second = _world(), _world()
    PlanFactory(name="Business", tier_rank=3)  # a plan to switch to
    return first


def _row(model):
    obj = model._default_manager.order_by("pk").first()
    if model is Plan:
        obj = Plan.objects.filter(subscriptions__isnull=False).order_by("pk").first()
    return obj


def _fields(model):
    return [
        f
        for f in model._meta.get_fields()
        if getattr(f, "editable", False)
        and not f.auto_created
        and (f.concrete or f.many_to_many)
        and not f.primary_key
    ]


def _value(obj, field):
    if field.many_to_many:
        return sorted(getattr(obj, field.name).values_list("pk", flat=True))
    return getattr(obj, field.attname)


def _new_value(obj, field):
    """A different, valid-looking value for the field, as the form would post it."""
    current = getattr(obj, field.attname) if not field.many_to_many else None
    if field.many_to_many or field.is_relation:
        other = field.related_model._default_manager.exclude(pk=current).order_by("pk").first()
        assert other is not None, field.name
        return [other.pk] if field.many_to_many else other.pk
    if field.choices:
        values = [value for value, _ in field.flatchoices if value != current]
        return values[0]
    if isinstance(field, models.BooleanField):
        return "" if current else "on"
    if isinstance(field, models.DecimalField | models.IntegerField):
        return str((current or 0) + 1)
    if isinstance(field, models.DateTimeField):
        moved = (current or dt.datetime(2026, 1, 1, tzinfo=dt.UTC)) + dt.timedelta(days=1)
        return moved.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(field, models.DateField):
        return str((current or dt.date(2026, 1, 1)) + dt.timedelta(days=1))
    if isinstance(field, models.JSONField):
        return json.dumps({"changed": True})
    if isinstance(field, models.EmailField):
        return "changed@example.com"
    return "changed-by-hand"


def _form_data(response) -> dict:
    """What the browser would post back: every form and inline form field as rendered."""
    data = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            value = management[name].value()
            data[management.add_prefix(name)] = "" if value is None else value
        forms.extend(formset.forms)
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            if value is None or value is False:
                continue
            data[form.add_prefix(name)] = "on" if value is True else value
    return data


def _change_url(obj) -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


@pytest.mark.parametrize("model", GUARDED_MODELS, ids=lambda m: m.__name__)
def test_posting_a_change_of_each_guarded_field_changes_nothing(admin_client, records, model):
    obj = _row(model)
    url = _change_url(obj)
    page = admin_client.get(url)
    assert page.status_code == 200
    safe = SAFE_FIELDS.get(model, set())
    assert (b'name="_save"' in page.content) == bool(safe), "Save shown iff something is safe"
    guarded = [f for f in _fields(model) if f.name not in safe]
    assert guarded

    for field in guarded:
        before = _value(obj, field)
        data = _form_data(page) if safe else {}
        data[field.name] = _new_value(obj, field)
        data["_save"] = "Save"
        response = admin_client.post(url, data)
        assert response.status_code == (302 if safe else 403), field.name
        obj.refresh_from_db()
        assert _value(obj, field) == before, f"{model.__name__}.{field.name} changed"


def test_a_workspace_name_and_billing_email_are_edited_by_hand_and_audited(admin_client, records):
    workspace = records.workspace
    url = _change_url(workspace)
    data = _form_data(admin_client.get(url))
    data.update(name="Renamed Rowing Club", billing_email="accounts@renamed.example", _save="1")

    assert admin_client.post(url, data).status_code == 302

    workspace.refresh_from_db()
    assert (workspace.name, workspace.billing_email) == (
        "Renamed Rowing Club",
        "accounts@renamed.example",
    )
    record = AuditRecord.objects.get(action="workspace.details", target_id=str(workspace.pk))
    assert record.after == {
        "name": "Renamed Rowing Club",
        "billing_email": "accounts@renamed.example",
    }
    assert record.before["name"] != "Renamed Rowing Club"


def test_an_invalid_billing_email_is_refused_naming_the_field(admin_client, records):
    workspace = records.workspace
    url = _change_url(workspace)
    data = _form_data(admin_client.get(url))
    data.update(billing_email="not an email", _save="1")

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert "billing_email" in response.context["adminform"].form.errors
    workspace.refresh_from_db()
    assert workspace.billing_email != "not an email"


def test_a_plan_in_use_keeps_its_price_but_its_name_is_audited(admin_client, records):
    plan = records.plan
    url = _change_url(plan)
    data = _form_data(admin_client.get(url))
    data.update(name="Pro (2025 price)", price="1.00", _save="1")

    assert admin_client.post(url, data).status_code == 302

    plan.refresh_from_db()
    assert plan.name == "Pro (2025 price)"
    assert plan.price != Decimal("1.00")
    assert AuditRecord.objects.filter(action="plan.update", target_id=str(plan.pk)).exists()


def test_a_verified_review_request_is_view_only(admin_client, records):
    from billing.services.review_verification import review_request_verify

    review = RefundReviewRequest.objects.order_by("pk").first()
    review_request_verify(
        request=review,
        agent=UserFactory(is_superuser=True, is_staff=True),
        method="manual",
        note="Called the billing contact.",
        now=review.created_at,
    )
    page = admin_client.get(_change_url(review))

    assert b'name="_save"' not in page.content
    assert admin_client.post(_change_url(review), {"workspace": ""}).status_code == 403


@pytest.mark.parametrize(
    "model", [Subscription, AddOn, Workspace, WorkspaceMember, Refund, CancellationRequest]
)
def test_records_a_service_creates_are_not_added_by_hand(admin_client, model):
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
    assert admin_client.get(url).status_code == 403
