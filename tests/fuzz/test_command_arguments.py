"""A table of bad arguments for every management command of the project: each answers
exit status 2 with one line naming the option on stderr, prints nothing else and touches
no database (the arguments are refused before any query: no `django_db` mark here)."""

import json
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.core.management import get_commands, load_command_class

from backoffice.commands import ProjectCommand

SCENARIO = json.loads((Path(settings.BASE_DIR) / "scenarios" / "orgix-monthly.json").read_text())
PROJECT_APPS = {"accounts", "billing"}
PROJECT_COMMANDS = sorted(name for name, app in get_commands().items() if app in PROJECT_APPS)
WITH_NOW = [
    "apply_period_end_changes",
    "renew_subscriptions",
    "run_dunning",
    "purge_inactive_workspaces",
    "seed_demo",
]
WITH_BATCH_SIZE = WITH_NOW[:4]
BAD_NOW = [
    "2026-13-45T99:00",
    "9999-12-31T23:59:59",
    "0001-01-01T00:00:00",
    "2026-01-01T00:00:00+25:00",
    "2026-02-30",
    "1999-12-31T23:59:59Z",
    "tomorrow",
    "",
]
BAD_COUNTS = ["0", "-1", "99999999999999999999", "abc", "1e3", "²", "10001"]


def _scenario_file(tmp_path: Path, name: str, **changes) -> str:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(SCENARIO | changes))
    return str(path)


def _table(tmp_path: Path) -> list[tuple[str, list[str], str]]:
    cases = [(name, ["--now", value], "--now") for name in WITH_NOW for value in BAD_NOW]
    cases += [
        (name, ["--batch-size", value], "--batch-size")
        for name in WITH_BATCH_SIZE
        for value in BAD_COUNTS
    ]
    # Any one line will do: quote_refund first says its scenario is missing.
    cases += [(name, ["--no-such-option"], "") for name in PROJECT_COMMANDS]
    cases += [(name, ["--now"], "--now") for name in WITH_NOW]
    cases += [
        ("seed_demo", ["--workspaces", value], "--workspaces")
        for value in ["99999999999999999999999", "-1", "1000001", "abc", "3.5"]
    ]
    cases += [("seed_demo", ["--seed", value], "--seed") for value in ["-1", "x", "4294967296"]]
    cases += [
        ("purge_inactive_workspaces", ["--limit", value], "--limit")
        for value in ["0", "99999999999999999999", "ten"]
    ]
    year_9999 = {"cancel_at": "9999-05-25T08:00:00Z"}
    huge = {"plan": {"interval": "month", "price": "1" + "0" * 27}}
    cases += [
        ("quote_refund", [_scenario_file(tmp_path, "year-9999", **year_9999)], "cancel_at"),
        ("quote_refund", [_scenario_file(tmp_path, "huge", **huge)], "plan.price"),
        ("quote_refund", [str(tmp_path / "missing.json")], "scenario"),
        ("quote_refund", [], "the following arguments are required"),
    ]
    return cases


def _run(name: str, args: list[str], capsys) -> tuple[int, str, str]:
    command = load_command_class(get_commands()[name], name)
    with mock.patch("django.db.connections.close_all"), pytest.raises(SystemExit) as stop:
        command.run_from_argv(["manage.py", name, *args])
    captured = capsys.readouterr()
    return stop.value.code, captured.out, captured.err


def test_every_project_command_uses_the_shared_parser():
    classes = {
        name: type(load_command_class(get_commands()[name], name)) for name in PROJECT_COMMANDS
    }

    assert len(classes) >= 6
    assert [name for name, cls in classes.items() if not issubclass(cls, ProjectCommand)] == []


def test_bad_arguments_exit_2_with_one_line_naming_the_option(tmp_path, capsys):
    failures = []
    table = _table(tmp_path)
    for name, args, named in table:
        code, out, err = _run(name, args, capsys)
        lines = err.splitlines()
        ok = code == 2 and out == "" and len(lines) == 1 and named in lines[0]
        ok = ok and lines[0].startswith("CommandError: ")
        if not ok:
            failures.append((name, args, code, err))

    print(
        f"\nbad command arguments tried: {len(table)}, refused with one line and exit 2: "
        f"{len(table) - len(failures)}"
    )
    assert len(table) >= 90
    assert failures == []
