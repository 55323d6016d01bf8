"""`make demo` prints a timeline whose outcome column stays in line, however long the action."""

from __future__ import annotations

import re

from twofa_sim.io.cli import main


def test_the_outcome_column_stays_in_line(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the demo writes its QR pictures under artifacts/
    main(["demo", "--seed", "7"])
    lines = capsys.readouterr().out.splitlines()
    [header] = [line for line in lines if line.lstrip().startswith("time") and line.rstrip().endswith("outcome")]
    column = header.index("outcome")
    steps = [i for i, line in enumerate(lines) if re.match(r"^  \d\d:\d\d:\d\d", line)]
    assert steps
    for i in steps:
        line, below = lines[i], lines[i + 1]
        same_line = len(line) > column and line[column - 2:column] == "  " and line[column] != " "
        next_line = len(below) > column and below[:column].strip() == "" and below[column] != " "
        assert same_line or next_line, f"outcome out of its column: {line!r}"
