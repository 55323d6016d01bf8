"""``twofa-sim cover``: which rows of the transition table the stories tell, and stories for the rest.

``twofa-sim cover SCENARIO...`` runs each scenario file (a folder stands for its ``*.yaml``) with
the engine reporting the rows and guards it takes, and prints row by row the steps (file and line)
that take it, then the rows no scenario takes; ``--notebooks`` adds the rows the notebooks' cells
take. ``--generate DIR`` writes, for each row no scenario takes, the shortest story found that
takes it (:mod:`twofa_sim.spec.story_search`), runs what it wrote and says whether together they
tell every row that can be reached. ``--markdown`` prints the README's table. Exit 0 when every
row that can be reached is told, 1 when one is not, 2 when a file is invalid (nothing is run).
"""

from __future__ import annotations

import argparse
import pathlib
import time
from typing import Any, TextIO

from ..render.coverage_table import told_by_markdown
from ..spec.coverage import FlowCoverage, describe_row, never_deciding, run_covered, table_check
from ..spec.scenario import load_scenario_files, scenario_paths
from ..spec.story_search import generate_stories

EXIT_OK, EXIT_FAILED, EXIT_INVALID = 0, 1, 2
NOTEBOOKS = pathlib.Path("notebooks")


def add_cover_parser(commands: Any) -> None:
    """Register ``cover`` with the command's subparsers."""
    cover = commands.add_parser(
        "cover", help="which rows of the transition table the scenarios (and notebooks) take",
        description="Run scenario files and print, row by row of the transition table, the steps (file and "
                    "line) that take it, and the rows no scenario takes. Exit 0 when every row that can be "
                    "reached is told, 1 when one is not, 2 when a file is invalid.")
    cover.add_argument("files", nargs="*", metavar="SCENARIO", help="scenario files (a folder means its *.yaml files)")
    cover.add_argument("--notebooks", nargs="?", const=str(NOTEBOOKS), metavar="DIR",
                       help="also run the notebooks in DIR (default: %(const)s) and count what their cells take")
    cover.add_argument("--generate", metavar="DIR",
                       help="write into DIR, for each row no scenario takes, the shortest story that takes it")
    cover.add_argument("--all", action="store_true", help="name every step that takes a row, not the first few")
    cover.add_argument("--markdown", action="store_true", help="print the table with its 'told by' column in Markdown")


def command_cover(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    _, why_not = load_scenario_files(args.files, "cover", none_is_fine=True)  # --generate starts from none
    if why_not:
        print("\n".join(why_not), file=err)
        return EXIT_INVALID
    coverage = FlowCoverage()
    for path in scenario_paths(args.files):
        run_covered(path, coverage)
    if args.notebooks is not None:
        from .notebook_coverage import cover_notebooks  # starts kernels: only when asked
        cover_notebooks(sorted(pathlib.Path(args.notebooks).glob("*.ipynb")), coverage)
    unreachable = table_check(coverage.table)
    if args.generate is not None:
        return _generate(coverage, unreachable, pathlib.Path(args.generate), out)
    if args.markdown:
        print(told_by_markdown(coverage), file=out)
    else:
        for line in coverage.report(show_all=args.all):
            print(line, file=out)
        _print_unreachable(unreachable, coverage, out)
    untold = [n for n in coverage.untold if n not in unreachable]
    return EXIT_FAILED if untold or coverage.not_counted else EXIT_OK


def _print_unreachable(unreachable: dict[int, str], coverage: FlowCoverage, out: TextIO) -> None:
    if unreachable:
        print(f"Rows no sequence of events can reach ({len(unreachable)}):", file=out)
        for number, why in unreachable.items():
            print(f"  #{number} {describe_row(coverage.row(number))}: {why}", file=out)
    else:
        print("Every row can be reached (table check).", file=out)
    for name, order in coverage.orders.items():
        for index, why in never_deciding(order).items():
            print(f"  {name} {index} ({order[index - 1].outcome.value}) never decides: {why}", file=out)


def _generate(coverage: FlowCoverage, unreachable: dict[int, str], folder: pathlib.Path, out: TextIO) -> int:
    wanted = coverage.untold
    if not wanted:
        print("Every row is told by a story: nothing to generate.", file=out)
        return EXIT_OK
    started = time.perf_counter()
    generated = generate_stories(folder, wanted, table=coverage.table)
    print(f"{len(generated.written)} stories written to {folder} ({generated.plays} candidate stories played, "
          f"{time.perf_counter() - started:.1f} s):", file=out)
    check = FlowCoverage(coverage.table)
    for number, path in generated.written.items():
        result = run_covered(path, check)
        verdict = "passes" if result.passed else "FAILS"
        print(f"  {path.name}: {len(result.scenario.steps)} steps, {verdict}; rule {number}: "
              f"{coverage.row(number).rule}", file=out)
    for number, why in generated.unreachable.items():
        print(f"  rule {number} cannot be reached: {why}", file=out)
    for number in generated.not_found:
        print(f"  rule {number}: no story found within the search's bounds", file=out)
    still = [n for n in wanted if n not in unreachable and not check.rows_taken[n]]
    if still or check.not_counted:
        print(f"rows still untold: {', '.join(map(str, still)) or 'none'}; failing: {check.not_counted}", file=out)
        return EXIT_FAILED
    print(f"Together with the {len(coverage.sources)} stories given, every row that can be reached is told.",
          file=out)
    return EXIT_OK


__all__ = ["add_cover_parser", "command_cover"]
