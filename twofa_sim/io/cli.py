"""The ``twofa-sim`` command: run scenario files, or play the help-centre article in a terminal.

``twofa-sim run FILE...`` validates every file first (exit 2 naming file and line if any is
invalid, with nothing run), then runs each scenario and prints its timeline; exit 0 when every
expectation holds, 1 when any fails. ``--artifacts DIR`` writes every QR shown as
``DIR/<scenario>/qr-<user>-<n>.png`` and the event log as ``DIR/<scenario>/events.csv``.

``twofa-sim demo`` plays the article's story (the admin ticks "Force 2 factor auth.", the first
login shows a QR, the "Authenticator" add-on scans it, the code completes the login, the next
login asks only for a code), printing the QR as text and saving it as PNG; ``--seed N`` pins the
clock and seeds the secrets so that every run prints the same.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import re
import sys
import time
from typing import Sequence, TextIO

import qrcode

from ..conformance import command as conformance_command
from ..core.clock import iso
from ..spec.scenario import (ScenarioResult, StepRecord, TimelineWriter, load_scenario_files, parse_scenario,
                       run_scenario, summary_line, timeline_header)
from ..core.secret_source import SeededSecretSource, SystemSecretSource
from ..render.tables import events_table
from .cover_command import add_cover_parser, command_cover
from . import diff_command

EXIT_OK, EXIT_FAILED, EXIT_INVALID = 0, 1, 2

# ------------------------------------------------------------------------------------------------
# QR codes as text

_HALF_BLOCKS = {(True, True): "\u2588", (True, False): "\u2580", (False, True): "\u2584", (False, False): " "}


def qr_matrix(data: str) -> list[list[bool]]:
    """The modules of the QR code :func:`twofa_sim.apps.qr.qr_image` draws for ``data`` (True = dark), quiet zone included."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(data)
    code.make(fit=True)
    return [list(row) for row in code.get_matrix()]


def qr_text(data: str, *, invert: bool = False, ascii_only: bool = False) -> str:
    """A QR code a phone can scan off the terminal.

    Light modules are drawn in the terminal's text colour, which suits the usual light-on-dark
    terminal; ``invert`` draws the dark modules instead (for dark-on-light terminals). With
    Unicode half blocks one text line holds two rows of modules; ``ascii_only`` uses ``##`` per
    module and one line per row, for terminals without those characters.
    """
    matrix = qr_matrix(data)
    ink = [[dark == invert for dark in row] for row in matrix]
    if ascii_only:
        return "\n".join("".join("##" if cell else "  " for cell in row) for row in ink)
    if len(ink) % 2:
        ink.append([not invert] * len(ink[0]))  # one more row of quiet zone
    lines = []
    for top, bottom in zip(ink[0::2], ink[1::2]):
        lines.append("".join(_HALF_BLOCKS[(a, b)] for a, b in zip(top, bottom)))
    return "\n".join(lines)


def can_print(text: str, stream: TextIO) -> bool:
    """Whether ``stream`` can take ``text`` (an in-memory stream without an encoding takes anything)."""
    encoding = getattr(stream, "encoding", None)
    if encoding is None:
        return True
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


# ------------------------------------------------------------------------------------------------
# run


_NOT_IN_FOLDER_NAMES = re.compile(r"[^\w.-]+")


def _folder_name(stem: str) -> str:
    """A folder name made from a file's stem that stays one folder deep: letters, digits, ``_``, ``-``
    and inner dots only (a file named ``...yaml`` has the stem ``..``, which would name the parent)."""
    return _NOT_IN_FOLDER_NAMES.sub("_", stem).strip("._")[:100] or "scenario"


def _artifact_dirs(results: list[ScenarioResult], root: pathlib.Path) -> list[pathlib.Path]:
    """One folder per scenario inside ``root``, named after its file; a name already given (in any
    case) or a link already in ``root`` gets the next free number, so no two scenarios share one."""
    taken: set[str] = set()
    folders = []
    for result in results:
        base = _folder_name(result.scenario.stem)
        name, number = base, 1
        while name.casefold() in taken or (root / name).is_symlink():
            number += 1
            name = f"{base}-{number}"
        taken.add(name.casefold())
        folders.append(root / name)
    return folders


def command_run(files: Sequence[str], artifacts: str | None, quiet: bool, out: TextIO, err: TextIO) -> int:
    scenarios, why_not = load_scenario_files(files, "run")
    if why_not:
        print("\n".join(why_not), file=err)
        return EXIT_INVALID

    results = []
    started = time.perf_counter()
    for scenario in scenarios:
        result = run_scenario(scenario)
        results.append(result)
        if quiet:
            if not result.passed:
                for line in result.failures():
                    print(line, file=out)
            print(summary_line(result), file=out)
        else:
            print(result.timeline(), file=out)
            print(file=out)
    if artifacts is not None:
        root = pathlib.Path(artifacts)
        for result, folder in zip(results, _artifact_dirs(results, root)):
            result.write_artifacts(folder)
        print(f"artifacts written to {root}", file=out)
    failed = [r for r in results if not r.passed]
    if failed:
        print("failed:", file=out)
        for result in failed:
            for line in result.failures():
                print(f"  {line}", file=out)
    elapsed = time.perf_counter() - started
    print(f"scenarios: {len(results) - len(failed)} passed, {len(failed)} failed ({elapsed:.1f} s)", file=out)
    return EXIT_FAILED if failed else EXIT_OK


# ------------------------------------------------------------------------------------------------
# demo


DEMO_SCENARIO = """\
name: The help-centre article, end to end
description: >
  An admin creates a backend user with "Force 2 factor auth." ticked. At her first login, after
  username and password, a second window shows a QR code; the "Authenticator" browser add-on
  captures the tab, she marks the QR with a rectangle and the add-on saves the entry; she types
  the code it shows and is logged in. At her next login there is no QR: only the current code.
start: 2026-01-05T09:00:00Z
companies:
  ACME Publishing:
    force_2fa_for_all: false
devices:
  alice-browser: {owner: alice, app: authenticator}   # the "Authenticator" browser add-on
steps:
  - create_user: {name: alice, company: ACME Publishing, force_2fa: true, password: correct horse 42}
    note: The admin creates the backend user alice and ticks "Force 2 factor auth."
  - install: alice-browser
    note: "Step 1: alice installs the Authenticator add-on in her browser"
  - login: alice
    note: "Step 2: she opens the login mask of the back office and logs in with username and password"
    expect: {state: ENROLMENT, qr_shown: true}
  - wait: 20s
    note: "Step 3: a QR code appears; she opens the Authenticator add-on from the browser's toolbar"
  - scan: {device: alice-browser, rect: [150, 80, 490, 400]}
    note: The add-on's scan icon captures the tab; she marks the QR code with a rectangle and the entry is saved
    expect: {scan: added, entries: 1}
  - type: {from: alice-browser}
    note: She types the code the add-on shows; enrolment is complete and she is logged in
    expect: {state: AUTHENTICATED, enrolled: true, events: {QR shown: 1, enrolment completed: 1}}
  - log_out: alice
  - wait: 23h
    note: The next morning
  - login: alice
    note: "Username and password again: no QR code this time, only the code prompt"
    expect: {state: CODE_REQUIRED, qr_shown: false}
  - type: {from: alice-browser}
    note: The code the add-on shows now logs her in
    expect: {state: AUTHENTICATED, events: {QR shown: 1, authenticated: 2}}
"""


def command_demo(seed: int | None, out_dir: str, invert: bool, ascii_only: bool, out: TextIO) -> int:
    scenario = parse_scenario(DEMO_SCENARIO, "twofa-sim demo")
    if seed is None:
        start, source = float(int(time.time())), SystemSecretSource()
        mode = "live: clock from this computer, fresh random secrets (use --seed N to repeat a run)"
    else:
        start, source = None, SeededSecretSource(seed)
        mode = f"deterministic: clock pinned at {iso(scenario.start)} UTC, secrets seeded with {seed}"
    folder = pathlib.Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    unicode_ok = not ascii_only and can_print(_HALF_BLOCKS[(True, False)], out)

    print(f"twofa-sim demo: {scenario.name}", file=out)
    print(f"({mode})", file=out)
    print(file=out)
    for line in timeline_header(scenario)[2:]:
        print(line, file=out)

    writer = TimelineWriter(scenario)

    def show(record: StepRecord) -> None:
        for line in writer.lines(record):
            print(line, file=out)
        if record.qr is not None:
            screen = record.qr.screen
            path = folder / record.qr.filename
            screen.qr_image().save(path, format="PNG")
            screen.page_image().save(folder / f"page-{record.qr.user}-{record.qr.number}.png", format="PNG")
            print(file=out)
            print(f"  The second window shows this QR code (saved as {path}):", file=out)
            print(file=out)
            art = qr_text(screen.uri, invert=invert, ascii_only=not unicode_ok)
            for art_line in art.splitlines():
                print("    " + art_line, file=out)
            print(file=out)
            print(f"  Or enter this key by hand: {screen.secret_for_typing}", file=out)
            print(file=out)

    result = run_scenario(scenario, start=start, secret_source=source, on_record=show)
    events_table(result.office.events).to_csv(folder / "events.csv")
    print(summary_line(result), file=out)
    print(f"QR code, page and event log saved in {folder}", file=out)
    if not result.passed:
        for line in result.failures():
            print(line, file=out)
        return EXIT_FAILED
    return EXIT_OK


# ------------------------------------------------------------------------------------------------
# entry point


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="twofa-sim",
        description="Two-factor login (TOTP) for back-office users: run scenario files, or the article's demo.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser(
        "run", help="run scenario files and check their expectations",
        description="Run scenario files and print a timeline per scenario. Exit 0 when every expectation "
                    "holds, 1 when any fails, 2 when a file is invalid (then nothing is run).")
    run.add_argument("files", nargs="+", metavar="FILE", help="scenario files (a folder means its *.yaml files)")
    run.add_argument("--artifacts", metavar="DIR",
                     help="write every QR shown as DIR/<scenario>/qr-<user>-<n>.png and the event log as "
                          "DIR/<scenario>/events.csv")
    run.add_argument("-q", "--quiet", action="store_true", help="print only failures and one line per scenario")
    demo = commands.add_parser(
        "demo", help="play the help-centre article's story in the terminal",
        description="The article's story end to end: QR printed as text and saved as PNG.")
    demo.add_argument("--seed", type=int, metavar="N",
                      help="pin the clock and seed the secrets: every run prints the same")
    demo.add_argument("--out", default="artifacts/demo", metavar="DIR",
                      help="where the QR code, the page and the event log are saved (default: %(default)s)")
    demo.add_argument("--invert", action="store_true", help="draw the QR for a dark-on-light terminal")
    demo.add_argument("--ascii", action="store_true", help="draw the QR with '#' only")
    conformance_command.add_parser(commands)
    add_cover_parser(commands)
    diff_command.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # argparse prints its own message on stderr
        return int(stop.code or 0)
    try:
        if args.command == "run":
            return command_run(args.files, args.artifacts, args.quiet, out, err)
        if args.command == "conform":
            return conformance_command.command_conform(args, out, err)
        if args.command == "cover":
            return command_cover(args, out, err)
        if args.command == "diff":
            return diff_command.command_diff(args.files, args.policy, args.format, out, err)
        return command_demo(args.seed, args.out, args.invert, args.ascii, out)
    except BrokenPipeError:  # the reader went away (``twofa-sim run ... | head``): stop quietly
        if out is sys.stdout:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED
    except OSError as error:  # the --out or --artifacts folder cannot be written
        where = f" {str(error.filename)[:200]!r}" if error.filename else ""
        print(f"twofa-sim: cannot write{where}: {error.strerror or error}", file=err)
        return EXIT_INVALID


__all__ = ["main", "qr_text", "qr_matrix", "build_parser", "DEMO_SCENARIO"]
