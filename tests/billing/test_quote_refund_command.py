"""`manage.py quote_refund`: good scenarios print the quote, bad ones one line and exit 2."""

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
EXAMPLE = json.loads((SCENARIOS / "prorated-credit-example.json").read_text())

pytestmark = pytest.mark.django_db


def run(tmp_path, data, *args) -> str:
    path = tmp_path / "scenario.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    out = StringIO()
    call_command("quote_refund", str(path), *args, stdout=out)
    return out.getvalue()


def test_prints_the_quote_as_json_with_amounts_as_strings(tmp_path):
    output = json.loads(run(tmp_path, EXAMPLE))

    assert output["refund"] == "67.74"
    assert output["destination"] == "customer_credit"
    assert output["currency"] == "USD"
    assert output["amount_due"] == "0.00"
    assert output["ends_at"] == output["access_until"] == "2022-01-11T00:00:00+00:00"
    assert output["data_retained_until"] is None
    assert output["lines"][0] == {
        "label": "Subscription payment: unused time, to the minute",
        "amount": "67.74",
        "clause": "prorated-credit §Refund: remaining time, single minute precision",
        "payment_ref": "1",
    }


def test_text_output_is_a_readable_table(tmp_path):
    output = run(tmp_path, {**EXAMPLE, "policy": "prorated-credit@1"}, "--text")

    assert "Policy prorated-credit@1, amounts in USD" in output
    assert "Destination:         customer_credit" in output


@pytest.mark.parametrize("name", sorted(p.name for p in SCENARIOS.glob("*.json")))
def test_every_shipped_scenario_runs(tmp_path, name):
    output = json.loads(run(tmp_path, (SCENARIOS / name).read_text()))

    total = output["net"] if "change_to" in (SCENARIOS / name).read_text() else output["refund"]
    assert sum(float(line["amount"]) for line in output["lines"]) == pytest.approx(float(total))


def _without(key):
    return {k: v for k, v in EXAMPLE.items() if k != key}


BAD = [
    pytest.param({**EXAMPLE, "policy": "nope"}, "policy: unknown policy 'nope'", id="policy"),
    pytest.param({**EXAMPLE, "policy": "connex@9"}, "policy: unknown policy", id="version"),
    pytest.param(_without("currency"), "currency: this field is required", id="missing"),
    pytest.param({**EXAMPLE, "cancel_at": "tomorrow"}, "cancel_at: not an ISO", id="malformed"),
    pytest.param(
        {**EXAMPLE, "cancel_at": "2021-12-31T00:00:00Z"},
        "cancel_at: the cancellation is before subscribed_at",
        id="cancel-before-subscribe",
    ),
    pytest.param(
        {**EXAMPLE, "payments": [{"kind": "gift", "amount": "1", "paid_at": "2022-01-01"}]},
        "payments[0].kind: unknown value 'gift'",
        id="unknown-payment-kind",
    ),
    pytest.param(
        {**EXAMPLE, "plan": {"interval": "month", "price": "1.001"}},
        "plan.price: USD amounts have 2 decimal places",
        id="too-many-decimals",
    ),
    pytest.param("{not json", "scenario: not valid JSON", id="not-json"),
    pytest.param(
        {**EXAMPLE, "payments": [dict(EXAMPLE["payments"][0], ref="a")] * 2},
        "payments[1].ref: duplicate ref 'a'",
        id="duplicate-payment-ref",
    ),
    pytest.param(
        {**EXAMPLE, "refunds": [{"amount": "5.00", "payment": 7}]},
        "refunds[0].payment: no payment 7 in payments",
        id="refund-of-unknown-payment",
    ),
    # Strict scenarios: a key the simulator would ignore changes the quote silently.
    pytest.param(
        {**_without("refunds"), "refund": [{"amount": "50.00"}]},
        "refund: unknown field (did you mean 'refunds'?)",
        id="strict: misspelled refunds",
    ),
    pytest.param(
        {**EXAMPLE, "discount": "20"},
        "discount: unknown field (did you mean 'discount_percent'?)",
        id="strict: unknown top-level key",
    ),
    pytest.param(
        {**EXAMPLE, "plan": {"interval": "month", "price": "100.00", "prices": "1"}},
        "plan.prices: unknown field (did you mean 'price'?)",
        id="strict: unknown plan key",
    ),
    pytest.param(
        {**EXAMPLE, "payments": [dict(EXAMPLE["payments"][0], refund="10.00")]},
        "payments[0].refund: unknown field (did you mean 'refunded'?)",
        id="strict: unknown payment key",
    ),
    pytest.param(
        {**EXAMPLE, "refunds": [{"amount": "5.00", "paymnet": 1}]},
        "refunds[0].paymnet: unknown field (did you mean 'payment'?)",
        id="strict: unknown refund key",
    ),
    pytest.param(
        {**EXAMPLE, "services": [{"kind": "onboarding", "done_at": "2022-01-02"}]},
        "services[0].done_at: unknown field",
        id="strict: unknown service key",
    ),
    pytest.param(
        {**EXAMPLE, "refunds": [{"amount": "100.01", "payment": 1}]},
        "refunds[0].amount: 100.01 is more than what is left of payment '1' (100.00)",
        id="strict: refund larger than its payment by a cent",
    ),
    pytest.param(
        {**EXAMPLE, "refunds": [{"amount": "60.00", "payment": 1}, {"amount": "40.01"}]},
        "refunds[1].amount: 40.01 is more than what is left of all payments (40.00)",
        id="strict: untied refunds larger than what is left",
    ),
    pytest.param(
        {**EXAMPLE, "trial_end": "2021-12-31T23:59:00Z"},
        "trial_end: the trial ends before subscribed_at",
        id="strict: trial_end a minute before subscribed_at",
    ),
    pytest.param(
        {**EXAMPLE, "period_start": "2021-12-31T23:59:00Z"},
        "period_start: the period starts before subscribed_at",
        id="strict: period a minute before the subscription",
    ),
    pytest.param(
        {
            **EXAMPLE,
            "payments": [
                dict(
                    EXAMPLE["payments"][0],
                    period_start="2021-12-31T23:59:00Z",
                    period_end="2022-01-31T00:00:00Z",
                )
            ],
        },
        "payments[0].period_start: the period starts before subscribed_at",
        id="strict: a payment's period a minute before the subscription",
    ),
    pytest.param(
        {**EXAMPLE, "change_to": {"price": "200.00", "interval": "month"}},
        "cancel_at: a scenario quotes a cancellation (cancel_at) or a plan change",
        id="strict: cancel_at and change_to together",
    ),
    pytest.param(
        {**_without("cancel_at"), "change_at": "2022-01-16T00:00:00Z"},
        "change_to: this field is required",
        id="plan change without change_to",
    ),
    pytest.param(
        {
            **EXAMPLE,
            "currency": "EUR",
            "policy": "connex",
            "services": [{"kind": "preliminary_call", "completed_at": "2022-01-03T00:00:00Z"}],
        },
        "service_deductions[0].amount: connex §30-Day Refund schedule 1",
        id="a fixed amount the policy defines only in USD, for a EUR subscription",
    ),
]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        pytest.param({**EXAMPLE, "trial_end": EXAMPLE["subscribed_at"]}, None, id="trial_end"),
        pytest.param(
            {**EXAMPLE, "period_start": EXAMPLE["subscribed_at"]}, None, id="period_start"
        ),
        pytest.param(
            {**EXAMPLE, "refunds": [{"amount": "100.00", "payment": 1}]}, None, id="full refund"
        ),
    ],
)
def test_the_boundary_values_themselves_are_accepted(tmp_path, data, field):
    assert json.loads(run(tmp_path, data))["policy"] == "prorated-credit@1"


@pytest.mark.parametrize(("data", "message"), BAD)
def test_a_bad_scenario_names_the_field_and_exits_2(tmp_path, data, message):
    with pytest.raises(CommandError) as raised:
        run(tmp_path, data)

    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)
    assert raised.value.returncode == 2


def test_a_missing_file_exits_2(tmp_path):
    with pytest.raises(CommandError, match=r"^scenario: cannot read") as raised:
        call_command("quote_refund", str(tmp_path / "missing.json"))

    assert raised.value.returncode == 2


def test_from_the_shell_a_bad_scenario_prints_one_line_and_exits_2(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(_without("cancel_at")))
    manage = Path(__file__).resolve().parents[2] / "manage.py"

    done = subprocess.run(
        [sys.executable, str(manage), "quote_refund", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert done.returncode == 2
    assert done.stderr.strip() == "CommandError: cancel_at: this field is required"
    assert done.stdout == ""


def test_a_plan_change_scenario_prints_lines_with_periods_and_net(tmp_path):
    change = {**_without("cancel_at"), "policy": "orgix", "currency": "EUR"}
    change.update(change_to={"price": "200.00", "interval": "month", "name": "Business"})
    change["change_at"] = "2022-01-16T12:00:00Z"

    output = json.loads(run(tmp_path, change))
    text = run(tmp_path, change, "--text")

    assert output["direction"] == "upgrade" and output["net"] == "50.00"
    assert [line["amount"] for line in output["lines"]] == ["-50.00", "100.00"]
    assert output["lines"][1]["period_start"] == "2022-01-16T12:00:00+00:00"
    assert output["lines"][1]["period_end"] == "2022-02-01T00:00:00+00:00"
    assert output["effective_at"] == "2022-01-16T12:00:00+00:00"
    assert "Business from the change" in text and "Net" in text
