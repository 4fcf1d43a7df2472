import pytest
from django.contrib.auth.models import Group

from billing.models import RefundPolicy
from billing.policy.presets import PRESETS
from billing.policy.rules import PolicyRules
from tests.factories import PaymentFactory


@pytest.mark.django_db
def test_presets_are_loaded_as_version_one_and_round_trip():
    for slug, rules in PRESETS.items():
        policy = RefundPolicy.objects.get(slug=slug, version=1)
        assert PolicyRules.from_dict(policy.rules) == rules


@pytest.mark.django_db
def test_staff_groups_exist_and_only_the_lead_approves_large_refunds():
    agent = Group.objects.get(name="Support agent")
    lead = Group.objects.get(name="Billing lead")
    assert not agent.permissions.filter(codename="approve_large_refund").exists()
    assert lead.permissions.filter(codename="approve_large_refund").exists()


@pytest.mark.django_db
def test_factories_build_a_paid_subscription():
    payment = PaymentFactory()
    assert payment.workspace == payment.subscription.workspace
    assert payment.workspace.members.get().role == "owner"
