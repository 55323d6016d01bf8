"""The login flow as Mermaid state diagrams, drawn from the transition table.

One diagram of all the edges is a tangle at notebook width (labels land on each other), so the flow
is drawn as four small diagrams, one per phase of a login: the password, the QR prompt of a first
login, the code prompt of later logins, and what follows the end of a login. Each draws, left to right, the rows whose source state belongs to the
phase, one edge per (from, to), labelled with short words for the outcomes that take it. The full
outcome, event, effect and rule of every row are in ``flow_table(FLOW)`` (:mod:`.tables`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from ..login.flow import OUTCOME_FACTS, State

if TYPE_CHECKING:
    from ..login.flow import FlowTable


PHASES: dict[str, tuple[State, ...]] = {
    "1 · username and password": (State.CREDENTIALS,),
    "2 · first login: the second window with the QR code": (State.ENROLMENT,),
    "3 · later logins: the code only": (State.CODE_REQUIRED,),
    "4 · after a login ends": (State.AUTHENTICATED, State.LOCKED_OUT, State.EXPIRED),
}


def edge_label(row) -> str:
    """Short words for one row: its outcome, or for a finished login the event (log out, start over)."""
    return OUTCOME_FACTS[row.outcome].label or row.event.value


def to_mermaid(table: "FlowTable", sources: Iterable[State] | None = None, *, loops_as_notes: bool = False) -> str:
    """A ``stateDiagram-v2``, left to right, of the rows leaving ``sources`` (all rows by default):
    one edge per (from, to), the labels of its rows joined. With ``loops_as_notes`` a row that
    stays in its state is a note beside the state (Mermaid draws a looping edge's label on top of
    the neighbouring edges' labels)."""
    wanted = set(State if sources is None else sources)
    rows = [r for r in table.rows if r.source in wanted]
    states = list(dict.fromkeys([r.source for r in rows] + [r.target for r in rows]))
    lines = ["stateDiagram-v2", "    direction LR"]
    if table.initial in wanted:
        lines.append(f"    [*] --> {table.initial.name}")
    lines += [f"    {state.name}: {state.value}" for state in State if state in states]
    edges: dict[tuple[State, State], list[str]] = {}
    for row in rows:
        labels = edges.setdefault((row.source, row.target), [])
        if edge_label(row) not in labels:
            labels.append(edge_label(row))
    for (source, target), labels in edges.items():
        if loops_as_notes and source is target:
            lines.append(f"    note left of {source.name}: stays here when {' / '.join(labels)}")
        else:
            lines.append(f"    {source.name} --> {target.name}: {' / '.join(labels)}")
    if table.final in wanted:
        lines.append(f"    {table.final.name} --> [*]")
    return "\n".join(lines)


def to_markdown(table: "FlowTable") -> str:
    """One diagram per phase under its heading, as Markdown (JupyterLab and GitHub draw Mermaid)."""
    return "\n\n".join(f"**{title}**\n\n```mermaid\n{to_mermaid(table, sources, loops_as_notes=True)}\n```"
                       for title, sources in PHASES.items())


class FlowDiagrams:
    """What a notebook shows for ``flow_diagrams(FLOW)``: the diagrams of :func:`to_markdown`."""

    def __init__(self, table: "FlowTable") -> None:
        self.table = table

    def _repr_markdown_(self) -> str:
        return to_markdown(self.table)

    def __repr__(self) -> str:
        return f"FlowDiagrams({len(PHASES)} phases of {self.table!r})"


def flow_diagrams(table: "FlowTable") -> FlowDiagrams:
    """The flow drawn one phase of a login per diagram, for a notebook cell to show."""
    return FlowDiagrams(table)


__all__ = ["to_mermaid", "to_markdown", "flow_diagrams", "FlowDiagrams", "edge_label", "PHASES"]
