"""The policy editor shows the rules added for seats, limits, chargebacks and purchase
dates without code of its own (it is built from the rules dataclasses)."""

from dataclasses import replace

import pytest

from billing.admin.policy_form import PolicyRulesForm
from billing.policy.examples import BASECAMP_CURRENT, GOOGLE_WORKSPACE, MICROSOFT_365, SLACK
from billing.policy.rules import ChangeLimit, Clause, LimitedChange, LimitPer


@pytest.mark.parametrize(
    "rules",
    [
        pytest.param(SLACK, id="slack-seats"),
        pytest.param(MICROSOFT_365, id="microsoft-purchase-date"),
        pytest.param(GOOGLE_WORKSPACE, id="google-seats-in-a-variant"),
        pytest.param(BASECAMP_CURRENT, id="basecamp-current"),
    ],
)
def test_posting_the_editor_unchanged_keeps_the_new_rules(rules):
    form = PolicyRulesForm(rules=rules)
    data = {n: v for n, v in form.initial.items() if v is not None and v is not False}

    posted = PolicyRulesForm(data, rules=rules)

    assert posted.is_valid(), posted.errors
    assert posted.rules == rules


def test_the_editor_has_fields_for_seats_limits_chargebacks_and_purchase_dates():
    limit = ChangeLimit(LimitedChange.PAUSE, 2, LimitPer.YEAR, Clause("§pauses"))
    form = PolicyRulesForm(rules=replace(SLACK, limits=(limit,)))

    assert form.initial["seats.inactive_after_days"] == 28
    assert form.initial["seats.minimum_billed"] == 1
    assert form.initial["limits.0.change"] == "pause"
    assert "chargeback.on_open" in form.fields and "chargeback.on_lost" in form.fields
    assert MICROSOFT_365.variants[3].when.purchased_from is not None
    german = PolicyRulesForm(rules=MICROSOFT_365)
    assert (
        german.initial["variants.3.when.purchased_from"]
        == MICROSOFT_365.variants[3].when.purchased_from
    )
