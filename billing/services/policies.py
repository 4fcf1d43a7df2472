"""Policy versions. A version used by any subscription is frozen (orgix clause 19: the
policy changes by publishing a new version); `policy_new_version` is how it changes.
Only versions nobody uses yet can be corrected in place, through `policy_update`."""

from datetime import date, datetime
from typing import Any

from django.db import transaction

from accounts.models import User
from accounts.services.audit import audit_record
from backoffice.bounds import date_out_of_range
from billing.errors import DomainError
from billing.models import RefundPolicy, Subscription
from billing.policy.rules import PolicyRules


class PolicyInUse(DomainError):
    """The version is used by a subscription: publish a new version instead."""


def policy_in_use(policy: RefundPolicy) -> bool:
    return Subscription.objects.filter(policy_id=policy.pk).exists()


def validated_rules(rules: Any) -> dict[str, Any]:
    """The rules normalised through `PolicyRules`, or a DomainError naming `rules`."""
    try:
        return PolicyRules.from_dict(rules).to_dict()
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise DomainError(f"invalid rules: {exc}", field="rules") from None


def policy_new_version(
    *,
    policy: RefundPolicy,
    rules: dict[str, Any] | None,
    effective_from: date,
    actor: User | None,
    now: datetime,
    changelog: str,
) -> RefundPolicy:
    """Publish version N+1 of `policy`'s slug, with `rules` (or a copy of `policy`'s)."""
    new_rules = validated_rules(policy.rules if rules is None else rules)
    if not changelog.strip():
        raise DomainError("say what changes in this version", field="changelog")
    if problem := date_out_of_range(effective_from):
        raise DomainError(problem, field="effective_from")
    with transaction.atomic():
        versions = RefundPolicy.objects.select_for_update().filter(slug=policy.slug)
        latest = versions.order_by("-version").first()
        if effective_from < latest.effective_from:
            raise DomainError(
                f"cannot take effect before version {latest.version} "
                f"({latest.effective_from:%Y-%m-%d})",
                field="effective_from",
            )
        created = RefundPolicy.objects.create(
            slug=policy.slug,
            version=latest.version + 1,
            title=policy.title,
            effective_from=effective_from,
            rules=new_rules,
            source_text=policy.source_text,
            changelog=changelog,
        )
        audit_record(
            actor=actor,
            action="policy.new_version",
            target=created,
            now=now,
            before={"from": policy.label},
            after={"version": created.version, "effective_from": effective_from},
            note=changelog,
        )
    return created


def policy_update(
    *, policy: RefundPolicy, actor: User | None, now: datetime, fields: list[str]
) -> RefundPolicy:
    """Save in-place corrections of a version no subscription uses yet."""
    with transaction.atomic():
        stored = RefundPolicy.objects.select_for_update().get(pk=policy.pk)
        if policy_in_use(stored):
            raise PolicyInUse(
                f"{stored.label} is used by subscriptions: publish a new version instead",
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
