"""Policy versions: drafted, edited, published by a Billing lead, then frozen.

A draft is the next version number of its slug, copied from an existing version
(`policy_draft_create`) or loaded from a policy file (`policy_draft_load`); only drafts
change (`policy_draft_save`, `policy_update`). `policy_publish` freezes a draft and says
which subscriptions move to it: new ones from `effective_from`, and, if `moves` is
`renewals`, renewals from `renewals_from` (never before today: a period already paid
keeps the version it was paid under). No subscription ever points to a draft: the renewal
job and new subscriptions read only published versions (`billing.services.charging`).
"""

from datetime import date, datetime
from typing import Any

from django.db import transaction

from accounts.models import User
from accounts.services.audit import audit_record
from billing.errors import DomainError, PermissionDenied
from billing.models import RefundPolicy, Subscription
from billing.policy.diff import rules_diff
from billing.policy.validation import RulesInvalid, parse_rules

PUBLISH_PERMISSION = "billing.publish_refundpolicy"
FILE_FIELDS = ("slug", "title", "effective_from", "source_text", "changelog", "rules")


class PolicyFrozen(DomainError):
    """The version is published: draft a new version instead."""


class PolicyRulesInvalid(DomainError):
    """The rules break a rule of the schema; `problems` lists every one, by field."""

    def __init__(self, error: RulesInvalid) -> None:
        first, *others = error.problems
        more = f" (and {len(others)} more: {'; '.join(map(str, others))})" if others else ""
        super().__init__(first.message + more, field=f"rules.{first.field}")
        self.problems = error.problems


def policy_in_use(policy: RefundPolicy) -> bool:
    return Subscription.objects.filter(policy_id=policy.pk).exists()


def validated_rules(rules: Any) -> dict[str, Any]:
    """The rules normalised through `PolicyRules`, or PolicyRulesInvalid naming the field."""
    try:
        return parse_rules(rules).to_dict()
    except RulesInvalid as exc:
        raise PolicyRulesInvalid(exc) from None


def policy_draft_create(*, policy: RefundPolicy, actor: User | None, now: datetime) -> RefundPolicy:
    """A draft of the next version of `policy`'s slug, with a copy of its rules."""
    with transaction.atomic():
        latest = _latest_locked(policy.slug)
        draft = RefundPolicy.objects.create(
            slug=policy.slug,
            version=latest.version + 1,
            title=policy.title,
            effective_from=max(now.date(), policy.effective_from),
            rules=policy.rules,
            source_text=policy.source_text,
            state=RefundPolicy.State.DRAFT,
            based_on=policy,
        )
        audit_record(
            actor=actor,
            action="policy.draft",
            target=draft,
            now=now,
            after={"version": draft.version, "from": policy.label},
        )
    return draft


def policy_draft_load(*, data: Any, actor: User | None, now: datetime) -> RefundPolicy:
    """Store a policy file (`policy_export`'s shape) as a draft of its slug's next version.
    Nothing is stored unless the whole file is valid; errors name the field."""
    if not isinstance(data, dict):
        raise DomainError("a policy file is a JSON object", field="file")
    unknown = sorted(set(data) - set(FILE_FIELDS) - {"version", "state"})
    if unknown:
        raise DomainError(f"unknown field (known: {', '.join(FILE_FIELDS)})", field=unknown[0])
    slug = data.get("slug")
    if not isinstance(slug, str) or not RefundPolicy.objects.filter(slug=slug).exists():
        raise DomainError(f"no policy called {slug!r}", field="slug")
    rules = validated_rules(data.get("rules"))
    effective_from = _date(data.get("effective_from"), "effective_from") or now.date()
    with transaction.atomic():
        latest = _latest_locked(slug)
        draft = RefundPolicy.objects.create(
            slug=slug,
            version=latest.version + 1,
            title=_text(data, "title", latest.title),
            effective_from=effective_from,
            rules=rules,
            source_text=_text(data, "source_text", latest.source_text),
            changelog=_text(data, "changelog", ""),
            state=RefundPolicy.State.DRAFT,
            based_on=latest,
        )
        audit_record(
            actor=actor,
            action="policy.draft",
            target=draft,
            now=now,
            after={"version": draft.version, "from": "file"},
        )
    return draft


def policy_export(policy: RefundPolicy) -> dict[str, Any]:
    """A policy version as a file for version control (`policy_draft_load` reads it back)."""
    return {
        "slug": policy.slug,
        "version": policy.version,
        "state": policy.state,
        "title": policy.title,
        "effective_from": policy.effective_from.isoformat(),
        "source_text": policy.source_text,
        "changelog": policy.changelog,
        "rules": policy.rules,
    }


def policy_update(
    *, policy: RefundPolicy, actor: User | None, now: datetime, fields: list[str]
) -> RefundPolicy:
    """Save edits of a draft (rules validated); a published version is frozen."""
    with transaction.atomic():
        stored = RefundPolicy.objects.select_for_update().get(pk=policy.pk)
        if not stored.is_draft:
            raise PolicyFrozen(
                f"{stored.label} is published and frozen: draft a new version instead",
                field="rules",
            )
        policy.rules = validated_rules(policy.rules)
        before = {name: getattr(stored, name) for name in fields}
        policy.save(update_fields=fields)
        audit_record(
            actor=actor,
            action="policy.update",
            target=policy,
            now=now,
            before=before,
            after={name: getattr(policy, name) for name in fields},
        )
    return policy


def policy_publish(
    *,
    policy: RefundPolicy,
    moves: str,
    renewals_from: date | None,
    actor: User,
    now: datetime,
) -> RefundPolicy:
    """Freeze a draft and make it the version in force from its `effective_from`."""
    if not actor.has_perm(PUBLISH_PERMISSION):
        raise PermissionDenied("Only a Billing lead may publish a policy version.", field="state")
    if moves not in RefundPolicy.Moves.values:
        raise DomainError(f"choose one of {', '.join(RefundPolicy.Moves.values)}", field="moves")
    if moves == RefundPolicy.Moves.NEW_ONLY:
        renewals_from = None
    with transaction.atomic():
        draft = RefundPolicy.objects.select_for_update().get(pk=policy.pk)
        if not draft.is_draft:
            raise PolicyFrozen(f"{draft.label} is already published.", field="state")
        rules = parse_rules_or_raise(draft.rules)
        if not draft.changelog.strip():
            raise DomainError("say what changes in this version", field="changelog")
        in_force = (
            RefundPolicy.objects.filter(slug=draft.slug, state=RefundPolicy.State.PUBLISHED)
            .order_by("-version")
            .first()
        )
        if in_force is not None and draft.effective_from < in_force.effective_from:
            raise DomainError(
                f"cannot take effect before version {in_force.version} "
                f"({in_force.effective_from:%d %B %Y})",
                field="effective_from",
            )
        if moves == RefundPolicy.Moves.RENEWALS:
            renewals_from = renewals_from or max(draft.effective_from, now.date())
            if renewals_from < now.date() or renewals_from < draft.effective_from:
                raise DomainError(
                    "renewals can move from today or the effective day on, not before "
                    "(a period already paid keeps its version)",
                    field="renewals_from",
                )
        draft.state = RefundPolicy.State.PUBLISHED
        draft.moves = moves
        draft.renewals_from = renewals_from
        draft.published_at = now
        draft.published_by = actor
        draft.save(
            update_fields=["state", "moves", "renewals_from", "published_at", "published_by"]
        )
        changes = rules_diff(parse_rules_or_raise(in_force.rules), rules) if in_force else []
        audit_record(
            actor=actor,
            action="policy.publish",
            target=draft,
            now=now,
            before={"in_force": in_force.label if in_force else None},
            after={
                "version": draft.version,
                "effective_from": draft.effective_from,
                "moves": moves,
                "renewals_from": renewals_from,
                "changes": changes,
            },
            note=draft.changelog,
        )
    return draft


def parse_rules_or_raise(rules: Any):
    try:
        return parse_rules(rules)
    except RulesInvalid as exc:
        raise PolicyRulesInvalid(exc) from None


def _latest_locked(slug: str) -> RefundPolicy:
    return RefundPolicy.objects.select_for_update().filter(slug=slug).order_by("-version").first()


def _date(value: Any, field: str) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise DomainError(f"{value!r} is not a date (YYYY-MM-DD)", field=field) from None


def _text(data: dict, field: str, default: str) -> str:
    value = data.get(field, default)
    if not isinstance(value, str):
        raise DomainError("expected text", field=field)
    return value
