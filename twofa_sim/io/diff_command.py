"""``twofa-sim diff SCENARIO... --policy A --policy B``: the steps of the stories that change with the policy.

Every scenario runs under both policies (a preset name or a YAML file of knobs); each step whose
outcome, message or events differ is printed: as a table for people (one line per step, then what
A and B showed), or as CSV (``--format csv``) for a spreadsheet. Two equal policies print no step.
Exit 0 when the comparison ran (differences are the answer, not a failure), 2 when a file or a
policy is invalid (then nothing is run).
"""

from __future__ import annotations

import csv
from typing import Sequence, TextIO

from ..core.errors import PolicyError
from ..spec.policy_diff import COLUMNS, named_policy, stories_diff
from ..spec.scenario import ScenarioError, load_scenario_files

EXIT_OK, EXIT_INVALID = 0, 2


def add_parser(commands) -> None:
    """Register ``diff`` on the ``twofa-sim`` command's subparsers."""
    diff = commands.add_parser(
        "diff", help="run scenarios under two policies and print the steps that change",
        description="Run each scenario under policy A and policy B (a preset: default, gitlab, keycloak, "
                    "keycloak-brute-force, authelia, django-otp; or a YAML file of knobs) and print every step "
                    "whose outcome, message or events differ. Exit 0 when compared, 2 when a file or policy is "
                    "invalid.")
    diff.add_argument("files", nargs="+", metavar="SCENARIO", help="scenario files (a folder means its *.yaml files)")
    diff.add_argument("--policy", action="append", required=True, metavar="PRESET_OR_FILE",
                      help="give it twice: policy A, then policy B")
    diff.add_argument("--format", choices=("table", "csv"), default="table", help="table (default) or csv")


def _block(row: dict) -> list[str]:
    head = f"{row['scenario']}  step {row['step']} (line {row['line']}): {row['action']}  [{row['what differs']}]"
    lines = [head]
    for side in ("A", "B"):
        parts = [row[f"outcome {side}"]]
        if row[f"message {side}"]:
            parts.append(f"\"{row[f'message {side}']}\"")
        if row[f"events {side}"]:
            parts.append(f"events: {row[f'events {side}']}")
        lines.append(f"    {side}: " + " | ".join(parts))
    return lines


def command_diff(files: Sequence[str], policies: Sequence[str], form: str, out: TextIO, err: TextIO) -> int:
    if len(policies) != 2:
        print(f"twofa-sim diff: give --policy exactly twice (A and B), got {len(policies)}", file=err)
        return EXIT_INVALID
    try:
        a, b = (named_policy(p) for p in policies)
    except PolicyError as error:
        print(f"error: {error}", file=err)
        return EXIT_INVALID
    except ScenarioError as error:
        print(f"error: policy file {error}", file=err)
        return EXIT_INVALID
    scenarios, why_not = load_scenario_files(files, "diff")
    if why_not:
        print("\n".join(why_not), file=err)
        return EXIT_INVALID
    rows = stories_diff(scenarios, a.policy, b.policy)
    if form == "csv":
        writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return EXIT_OK
    print(f"A: {a.name}    B: {b.name}", file=out)
    for row in rows:
        print(file=out)
        for line in _block(row):
            print(line, file=out)
    changed = len({row["scenario"] for row in rows})
    print(file=out)
    print(f"{len(rows)} steps differ in {changed} of {len(scenarios)} scenarios", file=out)
    return EXIT_OK


__all__ = ["add_parser", "command_diff"]
