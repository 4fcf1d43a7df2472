"""The policy authoring pages of the refund policy admin: structured editor of a draft,
diff in words between two versions, the simulator side by side, replay on past cases
(request, progress, totals, a changed case's two quotes), publish, JSON export and import.
Each page is a thin shell around `billing.services.policies` / `replays`."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from billing.admin.policy_display import example_scenario_text, render_quote
from billing.admin.policy_form import PolicyRulesForm
from billing.errors import DomainError
from billing.models import PolicyReplay, RefundPolicy
from billing.policy.diff import rules_diff
from billing.policy.engine import quote_cancellation
from billing.policy.quotes import Quote
from billing.policy.replay import ReplayCase, Version, outcome
from billing.policy.scenarios import ScenarioError, parse_scenario
from billing.selectors import policy_rules
from billing.services.policies import (
    PUBLISH_PERMISSION,
    policy_draft_create,
    policy_draft_load,
    policy_export,
    policy_publish,
    policy_update,
)
from billing.services.replays import (
    PERIODS,
    REPLAY_PERMISSION,
    policy_in_force,
    policy_replay_request,
    replay_cases_by_ref,
)


class DraftDetailsForm(forms.ModelForm):
    class Meta:
        model = RefundPolicy
        fields = ["title", "effective_from", "changelog"]
        widgets = {"changelog": forms.Textarea(attrs={"rows": 3, "cols": 80})}
        help_texts = {"changelog": "What changes in this version, for the audit trail."}


class PublishForm(forms.Form):
    moves = forms.ChoiceField(
        choices=RefundPolicy.Moves.choices,
        widget=forms.RadioSelect,
        label="Which subscriptions move to this version",
        help_text="Periods already paid keep the version they were paid under.",
    )
    renewals_from = forms.DateField(
        required=False,
        label="Renewals move from",
        help_text="Empty: from the effective day (or today, if that is past).",
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class ImportForm(forms.Form):
    file = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 20, "cols": 100, "style": "font-family: monospace"}),
        label="Policy file (JSON)",
        help_text="As exported: slug, title, effective_from, changelog, rules.",
    )


class CompareForm(forms.Form):
    other = forms.ModelChoiceField(queryset=RefundPolicy.objects.all(), label="Compare with")
    scenario = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 20, "cols": 90, "style": "font-family: monospace"}),
        help_text="The scenario JSON (docs/policy.md); its `policy` is replaced by each version.",
    )


def _context(model_admin, request: HttpRequest, title: str, **extra: Any) -> dict[str, Any]:
    return {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "opts": RefundPolicy._meta,
        **extra,
    }


def _back(policy: RefundPolicy) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("admin:billing_refundpolicy_change", args=[policy.pk]))


def new_draft_view(model_admin, request: HttpRequest, pk: int) -> HttpResponse:
    if request.method != "POST" or not model_admin.has_add_permission(request):
        raise PermissionDenied
    policy = get_object_or_404(RefundPolicy, pk=pk)
    draft = policy_draft_create(policy=policy, actor=request.user, now=timezone.now())
    model_admin.message_user(request, f"Drafted {draft.label} from {policy.label}.")
    return HttpResponseRedirect(reverse("admin:billing_policy_edit", args=[draft.pk]))


def edit_view(model_admin, request: HttpRequest, pk: int) -> HttpResponse:
    policy = get_object_or_404(RefundPolicy, pk=pk)
    if not model_admin.has_change_permission(request, policy) or not policy.is_draft:
        raise PermissionDenied
    post = request.POST if request.method == "POST" else None
    details = DraftDetailsForm(post, instance=policy, prefix="details")
    form = PolicyRulesForm(post, rules=policy_rules(policy), prefix="rules")
    if post is not None and details.is_valid() and form.is_valid():
        policy.rules = form.rules_json()
        try:
            policy_update(
                policy=policy,
                actor=request.user,
                now=timezone.now(),
                fields=["rules", *details.changed_data],
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            model_admin.message_user(request, f"Saved {policy.label}.", messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:billing_policy_edit", args=[policy.pk]))
    sections = [
        (section, [form[name] for name in section.names]) for section in form.sections.values()
    ]
    return TemplateResponse(
        request,
        "admin/billing/refundpolicy/edit.html",
        _context(
            model_admin,
            request,
            f"Edit draft {policy.label}",
            policy=policy,
            details=details,
            form=form,
            sections=sections,
        ),
    )


def diff_view(model_admin, request: HttpRequest, pk: int) -> HttpResponse:
    policy = get_object_or_404(RefundPolicy, pk=pk)
    if not model_admin.has_view_permission(request, policy):
        raise PermissionDenied
    versions = RefundPolicy.objects.filter(slug=policy.slug).order_by("version")
    against_id = request.GET.get("against", "")
    other = None
    if against_id.isdigit():
        other = versions.filter(pk=int(against_id)).first()
    other = other or policy.based_on or _in_force_or_none(policy) or policy
    changes = rules_diff(policy_rules(other), policy_rules(policy))
    return TemplateResponse(
        request,
        "admin/billing/refundpolicy/diff.html",
        _context(
            model_admin,
            request,
            f"{policy.label} compared with {other.label}",
            policy=policy,
            other=other,
            versions=versions,
            changes=changes,
        ),
    )


def _in_force_or_none(policy: RefundPolicy) -> RefundPolicy | None:
    try:
        return policy_in_force(policy.slug, on=timezone.now())
    except DomainError:
        return None


def compare_view(model_admin, request: HttpRequest, pk: int) -> HttpResponse:
    """The simulator under two versions, side by side."""
    policy = get_object_or_404(RefundPolicy, pk=pk)
    if not model_admin.has_view_permission(request, policy):
        raise PermissionDenied
    other = policy.based_on or _in_force_or_none(policy) or policy
    form = CompareForm(
        request.POST or None,
        initial={"other": other.pk, "scenario": example_scenario_text(policy.slug)},
    )
    form.fields["other"].queryset = RefundPolicy.objects.filter(slug=policy.slug)
    quotes: list[tuple[RefundPolicy, str]] = []
    if request.method == "POST" and form.is_valid():
        for version in (form.cleaned_data["other"], policy):
            quote = _simulate(form, version)
            if quote is None:
                quotes = []
                break
            quotes.append((version, render_quote(quote)))
    return TemplateResponse(
        request,
        "admin/billing/refundpolicy/compare.html",
        _context(
            model_admin,
            request,
            f"Simulate {policy.label} side by side",
            policy=policy,
            form=form,
            quotes=quotes,
        ),
    )


def _simulate(form: CompareForm, policy: RefundPolicy) -> Quote | None:
    try:
        data = json.loads(form.cleaned_data["scenario"])
    except json.JSONDecodeError as exc:
        form.add_error("scenario", f"not valid JSON: {exc}")
        return None
    if isinstance(data, dict):
        data["policy"] = policy.label
    try:
        scenario = parse_scenario(data)
    except ScenarioError as exc:
        form.add_error("scenario", f"{exc.field}: {exc.message}")
        return None
    return quote_cancellation(
        rules=policy_rules(policy),
        policy_label=policy.label,
        snapshot=scenario.snapshot,
        at=scenario.cancel_at,
        destination=scenario.destination,
    )


def replay_view(model_admin, request: HttpRequest, pk: int) -> HttpResponse:
    policy = get_object_or_404(RefundPolicy, pk=pk)
    if not model_admin.has_view_permission(request, policy):
        raise PermissionDenied
    may_replay = request.user.has_perm(REPLAY_PERMISSION)
    if request.method == "POST":
        days = request.POST.get("days", "")
        try:
            replay = policy_replay_request(
                candidate=policy,
                days=int(days) if days.isdigit() else 0,
                actor=request.user,
                now=timezone.now(),
            )
        except DomainError as exc:
            model_admin.message_user(request, f"{exc.field}: {exc.message}", messages.ERROR)
        else:
            return HttpResponseRedirect(
                reverse("admin:billing_policy_replay_result", args=[replay.pk])
            )
    replays = PolicyReplay.objects.filter(candidate=policy).select_related("baseline")[:10]
    return TemplateResponse(
        request,
        "admin/billing/refundpolicy/replay.html",
        _context(
            model_admin,
            request,
            f"Replay {policy.label} on past cases",
            policy=policy,
            periods=PERIODS,
            replays=replays,
            may_replay=may_replay,
        ),
    )


def replay_result_view(model_admin, request: HttpRequest, replay_id: int) -> HttpResponse:
    replay = get_object_or_404(
        PolicyReplay.objects.select_related("candidate", "baseline"), pk=replay_id
    )
    if not model_admin.has_view_permission(request, replay.candidate):
        raise PermissionDenied
    if request.GET.get("format") == "json":
        return JsonResponse({"status": replay.status, "done": replay.done, "total": replay.total})
    summary = replay.summary or {}
    return TemplateResponse(
        request,
        "admin/billing/refundpolicy/replay_result.html",
        _context(
            model_admin,
            request,
            f"Replay of {replay.candidate.label} against {replay.baseline.label}",
            policy=replay.candidate,
            replay=replay,
            summary=summary,
            totals=_totals_rows(summary),
            cases=_case_rows(summary),
            percent=int(100 * replay.done / replay.total) if replay.total else 100,
        ),
    )


MONEY_WORDS = (("refunded", "Refunded"), ("credit", "Credit issued"), ("due", "Still due"))


def _totals_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for currency, sides in summary.get("totals", {}).items():
        for key, title in MONEY_WORDS:
            rows.append(
                {
                    "what": f"{title} ({currency})",
                    "baseline": sides["baseline"][key],
                    "candidate": sides["candidate"][key],
                    "difference": sides["difference"][key],
                }
            )
    return rows


KIND_WORDS = {"cancellation": "Cancellation", "refund": "Refund", "plan_change": "Plan change"}


def case_title(ref: str) -> str:
    """ "cancellation:9" → "Cancellation #9"."""
    kind, _, pk = ref.partition(":")
    return f"{KIND_WORDS.get(kind, kind)} #{pk}"


def _case_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {**case, "title": case_title(case["ref"]), "day": datetime.fromisoformat(case["at"])}
        for case in summary.get("most_changed", [])
    ]


def replay_case_view(model_admin, request: HttpRequest, replay_id: int, ref: str) -> HttpResponse:
    """One past case: its quote under the version in force and under the candidate."""
    replay = get_object_or_404(
        PolicyReplay.objects.select_related("candidate", "baseline"), pk=replay_id
    )
    if not model_admin.has_view_permission(request, replay.candidate):
        raise PermissionDenied
    case: ReplayCase | None = replay_cases_by_ref([ref]).get(ref)
    if case is None:
        raise Http404("No such case.")
    sides = []
    for version in (replay.baseline, replay.candidate):
        result, quote = outcome(case, Version(version.label, policy_rules(version)))
        html = (
            render_quote(quote)
            if isinstance(quote, Quote)
            else render_to_string("admin/billing/plan_change_quote.html", {"quote": quote})
        )
        sides.append((version, result, html))
    return TemplateResponse(
        request,
        "admin/billing/refundpolicy/replay_case.html",
        _context(
            model_admin,
            request,
            f"{case_title(ref)} under both versions",
            policy=replay.candidate,
            replay=replay,
            case=case,
            sides=sides,
        ),
    )


def publish_view(model_admin, request: HttpRequest, pk: int) -> HttpResponse:
    policy = get_object_or_404(RefundPolicy, pk=pk)
    if not request.user.has_perm(PUBLISH_PERMISSION):
        raise PermissionDenied
    form = PublishForm(request.POST or None, initial={"moves": RefundPolicy.Moves.RENEWALS})
    if request.method == "POST" and form.is_valid():
        try:
            policy_publish(
                policy=policy,
                moves=form.cleaned_data["moves"],
                renewals_from=form.cleaned_data["renewals_from"],
                actor=request.user,
                now=timezone.now(),
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            model_admin.message_user(request, f"Published {policy.label}.", messages.SUCCESS)
            return _back(policy)
    in_force = _in_force_or_none(policy)
    changes = rules_diff(policy_rules(in_force), policy_rules(policy)) if in_force else []
    return TemplateResponse(
        request,
        "admin/billing/refundpolicy/publish.html",
        _context(
            model_admin,
            request,
            f"Publish {policy.label}",
            policy=policy,
            form=form,
            in_force=in_force,
            changes=changes,
            today=timezone.now().date(),
        ),
    )


def export_view(model_admin, request: HttpRequest, pk: int) -> HttpResponse:
    policy = get_object_or_404(RefundPolicy, pk=pk)
    if not model_admin.has_view_permission(request, policy):
        raise PermissionDenied
    response = HttpResponse(
        json.dumps(policy_export(policy), indent=2, ensure_ascii=False) + "\n",
        content_type="application/json",
    )
    response["Content-Disposition"] = f'attachment; filename="{policy.slug}@{policy.version}.json"'
    return response


def import_view(model_admin, request: HttpRequest) -> HttpResponse:
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    form = ImportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            data = json.loads(form.cleaned_data["file"])
        except json.JSONDecodeError as exc:
            form.add_error("file", f"not valid JSON: {exc}")
        else:
            try:
                draft = policy_draft_load(data=data, actor=request.user, now=timezone.now())
            except DomainError as exc:
                form.add_error("file", f"{exc.field}: {exc.message}")
            else:
                model_admin.message_user(request, f"Loaded draft {draft.label}.", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:billing_policy_edit", args=[draft.pk]))
    return TemplateResponse(
        request,
        "admin/billing/refundpolicy/import.html",
        _context(model_admin, request, "Import a policy file", form=form),
    )
