"""Policy authoring: drafts, the structured editor's validation, publishing (who, what
freezes, which subscriptions move), JSON export/import commands."""

import dataclasses
import datetime as dt
import json
import typing
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from accounts.models import AuditRecord
from billing.admin.policy_form import PolicyRulesForm
from billing.errors import DomainError, PermissionDenied
from billing.models import PolicyReplay, RefundPolicy
from billing.policy.codec import optional_of, type_hints
from billing.policy.presets import PRESETS
from billing.policy.rules import Clause, PolicyRules
from billing.selectors import policy_for_new_subscription, policy_rules
from billing.services.charging import policies_in_force, renewal_policy_version
from billing.services.policies import (
    PolicyFrozen,
    policy_draft_create,
    policy_draft_load,
    policy_export,
    policy_publish,
    policy_update,
)
from billing.services.renewals import subscriptions_renew_due
from tests.factories import SubscriptionFactory, policy_version
from tests.factories.lifecycle import ScriptedGateway
from tests.factories.refunds import agent, lead

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 5, 1, 9, tzinfo=dt.UTC)


def draft_of(slug: str = "connex", **rule_changes):
    draft = policy_draft_create(policy=policy_version(slug), actor=None, now=NOW)
    if rule_changes:
        draft.rules = {**draft.rules, **rule_changes}
    draft.changelog = "Shorter window."
    draft.save()
    return draft


# --- drafts and publishing ------------------------------------------------------------


def test_a_draft_is_the_next_version_and_no_subscription_moves_to_it():
    subscription = SubscriptionFactory(plan__policy_slug="connex")

    draft = draft_of("connex")

    assert (draft.label, draft.state, draft.based_on.label) == ("connex@2", "draft", "connex@1")
    assert "connex" not in policies_in_force(NOW) or policies_in_force(NOW)["connex"].version == 1
    assert policy_for_new_subscription("connex", on=NOW.date()).version == 1
    assert renewal_policy_version(subscription, policies_in_force(NOW)).version == 1


def test_only_a_billing_lead_may_publish():
    draft = draft_of()

    with pytest.raises(PermissionDenied, match="Billing lead"):
        policy_publish(policy=draft, moves="renewals", renewals_from=None, actor=agent(), now=NOW)

    draft.refresh_from_db()
    assert draft.is_draft


def test_publishing_freezes_the_version_and_audits_what_changes():
    rules = policy_version("connex").rules
    draft = draft_of(refund_window={**rules["refund_window"], "days": 14})

    policy_publish(policy=draft, moves="renewals", renewals_from=None, actor=lead(), now=NOW)

    draft.refresh_from_db()
    assert (draft.state, draft.renewals_from, draft.published_at) == (
        "published",
        NOW.date(),
        NOW,
    )
    record = AuditRecord.objects.get(action="policy.publish")
    assert any(
        line.startswith("refund window: 30 → 14 days from") for line in record.after["changes"]
    )
    draft.title = "Edited after publishing"
    with pytest.raises(PolicyFrozen):
        policy_update(policy=draft, actor=None, now=NOW, fields=["title"])
    with pytest.raises(PolicyFrozen):
        policy_publish(policy=draft, moves="renewals", renewals_from=None, actor=lead(), now=NOW)


def test_renewals_move_from_the_chosen_day_and_never_to_an_older_version():
    subscription = SubscriptionFactory(plan__policy_slug="connex")
    draft = draft_of()
    day = dt.date(2026, 6, 1)

    policy_publish(policy=draft, moves="renewals", renewals_from=day, actor=lead(), now=NOW)

    before = NOW.replace(month=5, day=31)
    on_the_day = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    assert renewal_policy_version(subscription, policies_in_force(before)).version == 1
    assert renewal_policy_version(subscription, policies_in_force(on_the_day)).version == 2
    newer = SubscriptionFactory(plan__policy_slug="connex", policy=draft)
    assert renewal_policy_version(newer, policies_in_force(before)).version == 2


def test_new_only_moves_new_subscriptions_and_keeps_renewals_on_their_version():
    subscription = SubscriptionFactory(plan__policy_slug="connex")
    draft = draft_of()

    policy_publish(policy=draft, moves="new_only", renewals_from=None, actor=lead(), now=NOW)

    later = NOW + dt.timedelta(days=60)
    assert renewal_policy_version(subscription, policies_in_force(later)).version == 1
    assert policy_for_new_subscription("connex", on=later.date()).version == 2


def test_renewals_cannot_move_retroactively():
    draft = draft_of()

    with pytest.raises(DomainError) as raised:
        policy_publish(
            policy=draft,
            moves="renewals",
            renewals_from=NOW.date() - dt.timedelta(days=1),
            actor=lead(),
            now=NOW,
        )

    assert raised.value.field == "renewals_from"
    draft.refresh_from_db()
    assert draft.is_draft


def test_a_renewal_is_bought_under_the_published_version():
    subscription = SubscriptionFactory(
        plan__policy_slug="connex",
        started_at=dt.datetime(2026, 4, 1, tzinfo=dt.UTC),
        current_period_start=dt.datetime(2026, 4, 1, tzinfo=dt.UTC),
    )
    draft = draft_of()
    policy_publish(policy=draft, moves="renewals", renewals_from=None, actor=lead(), now=NOW)

    subscriptions_renew_due(now=NOW + dt.timedelta(hours=1), gateway=ScriptedGateway())

    subscription.refresh_from_db()
    assert subscription.policy_id == draft.pk


# --- the structured editor ------------------------------------------------------------


def leaf_paths(tp, prefix=""):
    """Every scalar field path of a rules dataclass (lists of rules: their first item)."""

    for f in dataclasses.fields(tp):
        hint = type_hints(tp)[f.name]
        name = f"{prefix}{f.name}"
        inner = optional_of(hint) or hint
        if inner is Clause:
            yield f"{name}.ref"
        elif dataclasses.is_dataclass(inner):
            yield from leaf_paths(inner, f"{name}.")
        elif typing.get_origin(inner) is tuple and dataclasses.is_dataclass(
            typing.get_args(inner)[0]
        ):
            yield from leaf_paths(typing.get_args(inner)[0], f"{name}.0.")
        elif typing.get_origin(inner) is not dict:
            yield name


def editor_post(policy, changes=None):
    """The editor's form as a browser would post it, with `changes` applied."""

    form = PolicyRulesForm(rules=policy_rules(policy), prefix="rules")
    data = {
        "details-title": policy.title,
        "details-effective_from": policy.effective_from.isoformat(),
        "details-changelog": policy.changelog or "change",
    }
    for name in form.fields:
        value = form.initial.get(name)
        if value is None or value is False:
            continue
        data[f"rules-{name}"] = value if not isinstance(value, Decimal) else str(value)
    for name, value in (changes or {}).items():
        key = f"rules-{name}"
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def test_every_rule_field_has_a_place_in_the_editor():
    form = PolicyRulesForm(rules=PRESETS["connex"])

    missing = [path for path in leaf_paths(PolicyRules) if path not in form.fields]
    assert missing == []


@pytest.mark.parametrize("slug", sorted(PRESETS))
def test_posting_the_editor_unchanged_gives_the_same_rules(slug):
    form = PolicyRulesForm(rules=PRESETS[slug])
    data = {n: v for n, v in form.initial.items() if v is not None and v is not False}

    posted = PolicyRulesForm(data, rules=PRESETS[slug])

    assert posted.is_valid(), posted.errors
    assert posted.rules == PRESETS[slug]


def test_a_rule_field_added_later_appears_in_the_editor_with_a_label():
    @dataclasses.dataclass(frozen=True)
    class Grace:
        days: int
        clause: Clause

    @dataclasses.dataclass(frozen=True)
    class WiderRules(PolicyRules):
        access_grace: Grace | None = None

    rules = WiderRules(
        **{f.name: getattr(PRESETS["connex"], f.name) for f in dataclasses.fields(PolicyRules)}
    )

    form = PolicyRulesForm(rules=dataclasses.replace(rules, access_grace=Grace(3, Clause("§G"))))

    assert form.fields["access_grace.days"].label == "Access grace days"
    assert form.initial["access_grace.days"] == 3
    assert form.initial["access_grace.clause.ref"] == "§G"
    assert "Access grace" in form.sections


def test_the_editor_saves_a_shorter_window(client):
    client.force_login(lead())
    draft = draft_of()
    url = reverse("admin:billing_policy_edit", args=[draft.pk])

    response = client.post(url, editor_post(draft, {"refund_window.days": "14"}))

    assert response.status_code == 302, response.context["form"].errors
    draft.refresh_from_db()
    assert draft.rules["refund_window"]["days"] == 14
    assert (
        draft.rules["service_deductions"] == policy_version("connex", 1).rules["service_deductions"]
    )


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        pytest.param({"refund_window.days": "-3"}, "refund_window.days", "negative", id="window"),
        pytest.param(
            {"service_deductions.1.amount.0.amount": "100.00"},
            "service_deductions.1.amount__present",
            "out of order",
            id="deductions-out-of-order",
        ),
        pytest.param(
            {"dunning.retry_after_days": "1, 3, 40"},
            "dunning.retry_after_days",
            "after the subscription expires",
            id="dunning-step-after-expiry",
        ),
        pytest.param(
            {"service_deductions.0.amount.0.currency": ""},
            "service_deductions.0.amount.0.currency",
            "currency",
            id="fixed-amount-without-currency",
        ),
        pytest.param(
            {"refund_window.counted_from": None},
            "refund_window.counted_from",
            "required",
            id="missing-choice",
        ),
        pytest.param(
            {"trial.annual_prorate_days": "many"},
            "trial.annual_prorate_days",
            "whole number",
            id="not-a-number",
        ),
    ],
)
def test_the_editor_names_the_field_and_saves_nothing(client, changes, field, message):
    client.force_login(lead())
    draft = draft_of()
    before = draft.rules

    response = client.post(
        reverse("admin:billing_policy_edit", args=[draft.pk]), editor_post(draft, changes)
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors, errors
    assert message in " ".join(errors[field]).lower()
    draft.refresh_from_db()
    assert draft.rules == before


def test_the_editor_adds_and_removes_rules_in_lists(client):
    client.force_login(lead())
    draft = draft_of()
    data = editor_post(
        draft,
        {
            "service_deductions.2__remove": "on",
            "refusals.1__add": "on",
            "refusals.1.code": "suspended_for_misuse",
            "refusals.1.message": "Suspended accounts are not refunded.",
            "refusals.1.clause.ref": "connex §Terms",
        },
    )

    response = client.post(reverse("admin:billing_policy_edit", args=[draft.pk]), data)

    assert response.status_code == 302, response.context["form"].errors
    draft.refresh_from_db()
    assert [d["service"] for d in draft.rules["service_deductions"]] == [
        "preliminary_call",
        "onboarding",
    ]
    assert draft.rules["refusals"][-1]["code"] == "suspended_for_misuse"


def test_a_published_version_is_read_only_in_the_admin(client):
    client.force_login(lead())
    policy = policy_version("orgix")
    url = reverse("admin:billing_refundpolicy_change", args=[policy.pk])

    client.post(url, {"title": "Edited"})

    policy.refresh_from_db()
    assert policy.title != "Edited"
    assert client.get(reverse("admin:billing_policy_edit", args=[policy.pk])).status_code == 403


def test_an_agent_sees_publish_disabled_and_cannot_publish(client):
    client.force_login(agent())
    draft = draft_of()

    page = client.get(reverse("admin:billing_refundpolicy_change", args=[draft.pk]))
    response = client.post(
        reverse("admin:billing_policy_publish", args=[draft.pk]), {"moves": "renewals"}
    )

    assert "Only a Billing lead may publish" in page.content.decode()
    assert response.status_code == 403
    draft.refresh_from_db()
    assert draft.is_draft


def test_the_publish_page_publishes_for_a_lead(client):
    client.force_login(lead())
    draft = draft_of()

    response = client.post(
        reverse("admin:billing_policy_publish", args=[draft.pk]), {"moves": "new_only"}
    )

    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.state, draft.moves) == ("published", "new_only")


# --- JSON export and import -----------------------------------------------------------


def test_export_then_load_gives_a_draft_with_the_same_rules(tmp_path, capsys):
    path = tmp_path / "connex.json"
    call_command("export_policy", "connex@1")
    path.write_text(capsys.readouterr().out)

    call_command("load_policy", str(path))

    assert capsys.readouterr().out.strip() == "connex@2"
    draft = RefundPolicy.objects.get(slug="connex", version=2)
    assert draft.is_draft and draft.rules == policy_version("connex", 1).rules


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        pytest.param(
            lambda d: d["rules"]["refund_window"].update(days=-1),
            "rules.refund_window.days: must not be negative (it is -1)",
            id="negative-window",
        ),
        pytest.param(
            lambda d: d["rules"]["refund_window"].update(dayz=3),
            "rules.refund_window.dayz: unknown field",
            id="unknown-key",
        ),
        pytest.param(
            lambda d: d["rules"].update(fallback="archived"),
            "rules.fallback: 'archived' is not one of free_plan, disabled, expired",
            id="bad-choice",
        ),
        pytest.param(lambda d: d.update(slug="nope"), "slug: no policy called 'nope'", id="slug"),
    ],
)
def test_load_policy_names_the_field_exits_2_and_stores_nothing(tmp_path, edit, expected):
    data = policy_export(policy_version("connex"))
    edit(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))

    with pytest.raises(CommandError) as raised:
        call_command("load_policy", str(path))

    assert raised.value.returncode == 2
    assert str(raised.value).startswith(expected)
    assert "\n" not in str(raised.value)
    assert not RefundPolicy.objects.filter(slug="connex", version=2).exists()


def test_export_policy_names_a_bad_reference():
    with pytest.raises(CommandError) as raised:
        call_command("export_policy", "connex")

    assert raised.value.returncode == 2
    assert str(raised.value).startswith("policy:")


def test_loading_a_file_is_a_draft_whatever_state_the_file_says():
    data = policy_export(policy_version("orgix"))

    draft = policy_draft_load(data={**data, "state": "published"}, actor=None, now=NOW)

    assert draft.is_draft and draft.version == 2


# --- the other authoring pages --------------------------------------------------------


def test_the_diff_page_lists_the_changes_against_the_version_drafted_from(client):
    client.force_login(agent())
    rules = policy_version("connex").rules
    draft = draft_of(refund_window={**rules["refund_window"], "days": 14})

    response = client.get(reverse("admin:billing_policy_diff", args=[draft.pk]))

    assert response.context["other"].label == "connex@1"
    [change] = response.context["changes"]
    assert change.startswith("refund window: 30 → 14 days from")


def test_the_side_by_side_simulator_quotes_both_versions(client):
    client.force_login(agent())
    rules = policy_version("connex").rules
    draft = draft_of(refund_window={**rules["refund_window"], "days": 1})
    url = reverse("admin:billing_policy_compare", args=[draft.pk])
    scenario = client.get(url).context["form"].initial["scenario"]

    response = client.post(url, {"other": policy_version("connex", 1).pk, "scenario": scenario})

    labels = [version.label for version, _ in response.context["quotes"]]
    assert labels == ["connex@1", "connex@2"]
    assert "Under connex@2 (draft)" in response.content.decode()


def test_the_side_by_side_simulator_names_a_bad_scenario_field(client):
    client.force_login(agent())
    draft = draft_of()

    response = client.post(
        reverse("admin:billing_policy_compare", args=[draft.pk]),
        {"other": draft.based_on.pk, "scenario": "{not json"},
    )

    assert "not valid JSON" in " ".join(response.context["form"].errors["scenario"])
    assert response.context["quotes"] == []


def test_export_and_import_pages_round_trip_a_file(client):
    client.force_login(lead())
    policy = policy_version("orgix")

    exported = client.get(reverse("admin:billing_policy_export", args=[policy.pk]))
    response = client.post(
        reverse("admin:billing_policy_import"), {"file": exported.content.decode()}
    )

    assert exported["Content-Disposition"] == 'attachment; filename="orgix@1.json"'
    draft = RefundPolicy.objects.get(slug="orgix", version=2)
    assert response.status_code == 302 and draft.is_draft
    assert draft.rules == policy.rules


def test_the_import_page_names_the_bad_field_and_stores_nothing(client):
    client.force_login(lead())
    data = policy_export(policy_version("orgix"))
    data["rules"]["dunning"]["expire_after_days"] = -1

    response = client.post(reverse("admin:billing_policy_import"), {"file": json.dumps(data)})

    errors = " ".join(response.context["form"].errors["file"])
    assert errors.startswith("rules.dunning.expire_after_days: must not be negative")
    assert not RefundPolicy.objects.filter(slug="orgix", version=2).exists()


def test_an_agent_may_not_start_a_replay(client):
    client.force_login(agent())
    draft = draft_of()

    page = client.get(reverse("admin:billing_policy_replay", args=[draft.pk]))
    client.post(reverse("admin:billing_policy_replay", args=[draft.pk]), {"days": "30"})

    assert "Only a Billing lead may start a replay" in page.content.decode()
    assert not PolicyReplay.objects.exists()
