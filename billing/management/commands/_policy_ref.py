"""`SLUG@VERSION` arguments of the policy commands; bad input exits 2 naming the argument."""

from django.core.management.base import CommandError

from billing.models import RefundPolicy


def policy_from_ref(ref: str, *, argument: str = "policy") -> RefundPolicy:
    slug, _, version = ref.partition("@")
    if not slug or not version.isdigit():
        raise CommandError(f"{argument}: {ref!r} is not SLUG@VERSION (e.g. connex@2)", returncode=2)
    policy = RefundPolicy.objects.filter(slug=slug, version=int(version)).first()
    if policy is None:
        raise CommandError(f"{argument}: no policy version {ref}", returncode=2)
    return policy
