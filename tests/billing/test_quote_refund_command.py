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

    assert sum(float(line["amount"]) for line in output["lines"]) == pytest.approx(
        float(output["refund"])
    )


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
]


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
