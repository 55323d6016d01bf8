"""The transition table with a "told by" column: which stories tell each rule.

Drawn from the plain rows :meth:`twofa_sim.spec.coverage.FlowCoverage.rows` hands out (this layer
does not run scenarios): ``told_by_table(cover_scenarios(paths))`` in a notebook, and
``told_by_markdown(...)`` for the README's table (``twofa-sim cover --markdown``).
"""

from __future__ import annotations

import pathlib
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from ..spec.coverage import FlowCoverage

STORIES_SHOWN = 3


def told_by(stories: list[str], shown: int = STORIES_SHOWN) -> str:
    """The stories by file name, the first ``shown`` of them, and how many more; "no story" for none."""
    if not stories:
        return "no story"
    names = [pathlib.PurePath(s).name for s in stories]
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def _outcome(row: dict) -> str:
    return row["outcome"] + (f" ({row['reason']})" if row["reason"] != "any" else "")


def told_by_table(coverage: "FlowCoverage") -> pd.DataFrame:
    """One row per transition: from, event, outcome, to, the rule, and the stories that tell it."""
    rows = coverage.rows()
    return pd.DataFrame([{"from": r["from"], "event": r["event"], "outcome": _outcome(r), "to": r["to"],
                          "rule": r["rule"], "told by": told_by(r["stories"])} for r in rows],
                        index=pd.Index([r["#"] for r in rows], name="#"))


def told_by_markdown(coverage: "FlowCoverage") -> str:
    """The same table in Markdown, for the README."""
    lines = ["| # | from | event | outcome | to | rule | told by |", "|---|---|---|---|---|---|---|"]
    for r in coverage.rows():
        cells = [str(r["#"]), r["from"], r["event"], _outcome(r), r["to"], r["rule"],
                 told_by(r["stories"]).replace(".yaml", "")]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


__all__ = ["told_by_table", "told_by_markdown", "told_by"]
