"""``twofa-sim conform SCENARIO... --target django-two-factor-auth``: the report in the terminal or as CSV.

Every file is read first (exit 2 naming file and line if one is invalid, nothing run); then each
scenario is played on the spec and on the target and the steps where they differ are printed,
with those the target cannot express. Exit 0 when every step agrees, 1 when any differs, 2 when
a file is invalid or the target cannot run here (the reason said).
"""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from ..spec.scenario import load_scenario_files
from .report import FORMATS, TARGETS, conform
from .target import NotExpressible

EXIT_OK, EXIT_DIFFERS, EXIT_INVALID = 0, 1, 2


def add_parser(commands: Any) -> None:
    """The ``conform`` subcommand on the ``twofa-sim`` command's parser (``commands``: its subparsers)."""
    parser = commands.add_parser(
        "conform", help="play scenario files on another back office and show where it differs from the spec",
        description="Play each scenario on the spec (the project's back office) and on a target, and print, "
                    "step by step, where outcome, message class or state differ and which steps the target "
                    "cannot express. Exit 0 when all agree, 1 when any step differs, 2 when a file is invalid "
                    "or the target cannot run here.")
    parser.add_argument("files", nargs="+", metavar="SCENARIO", help="scenario files (a folder means its *.yaml files)")
    parser.add_argument("--target", default="django-two-factor-auth", choices=sorted(TARGETS),
                        help="the back office to check (default: %(default)s; twofa-sim checks the spec against itself)")
    parser.add_argument("--format", default="text", choices=sorted(FORMATS), help="text (default) or csv")
    parser.add_argument("--every", action="store_true", help="list the steps that agree too")


def command_conform(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    scenarios, why_not = load_scenario_files(args.files, "conform")
    if why_not:
        print("\n".join(why_not), file=err)
        return EXIT_INVALID
    try:
        results = [conform(scenario, args.target) for scenario in scenarios]
    except NotExpressible as reason:  # the target itself cannot run here (its extra is missing)
        print(f"twofa-sim conform: {args.target} cannot run here: {reason}", file=err)
        return EXIT_INVALID
    print(FORMATS[args.format](results, every=args.every), end="", file=out)
    return EXIT_OK if all(r.conforms for r in results) else EXIT_DIFFERS
