"""How the package's answers look in a notebook: whole sentences in tables, figures as pictures.

pandas cuts a cell's text at 50 characters with "..." by default: the very rules and reasons a
product owner came to read. A matplotlib ``Figure`` made without pyplot (as the package makes them,
so that no global figure state is kept) shows only its repr unless IPython is told to draw it.
:func:`show_in_notebooks` sets both once, when the package is imported; it is the one display
setting every notebook shares.
"""

from __future__ import annotations

import io
import sys

import pandas as pd


def figure_png(figure) -> bytes:
    """The figure as PNG bytes, the same bytes for the same figure (no date in the file)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight", metadata={"Software": None})
    return buffer.getvalue()


def show_in_notebooks() -> None:
    """Tables show their text whole (wrapped by the notebook), figures are stored as PNG images."""
    pd.set_option("display.max_colwidth", None)
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None:
        return
    from matplotlib.figure import Figure
    shell.display_formatter.formatters["image/png"].for_type(Figure, figure_png)


__all__ = ["show_in_notebooks", "figure_png"]
