"""How the package's answers look in a notebook: whole sentences in tables, figures as pictures.

pandas cuts a cell's text at 50 characters with "..." by default: the very rules and reasons a
product owner came to read. A matplotlib ``Figure`` made without pyplot (as the package makes them,
so that no global figure state is kept) shows only its repr unless IPython is told to draw it.
:func:`show_in_notebooks` sets both once, when the package is imported; it is the one display
setting every notebook shares. It names the types instead of importing them (IPython's
``for_type_by_name``), so a kernel that shows only the login mask never loads pandas or
matplotlib for it.
"""

from __future__ import annotations

import io
import sys


def figure_png(figure) -> bytes:
    """The figure as PNG bytes, the same bytes for the same figure (no date in the file)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight", metadata={"Software": None})
    return buffer.getvalue()


def whole_text(show):
    """``show`` (a table's own repr) with every cell's text whole, not cut at 50 characters."""
    import pandas as pd

    with pd.option_context("display.max_colwidth", None):
        return show()


def show_in_notebooks() -> None:
    """Tables show their text whole (wrapped by the notebook), figures are stored as PNG images."""
    if "pandas" in sys.modules:  # already loaded: outside notebooks too (scripts, the command line)
        sys.modules["pandas"].set_option("display.max_colwidth", None)
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None:
        return
    formatters = shell.display_formatter.formatters
    formatters["image/png"].for_type_by_name("matplotlib.figure", "Figure", figure_png)
    # pandas 3 names its classes' module "pandas", earlier releases "pandas.core.frame" / ".series"
    for module, table in (("pandas", "DataFrame"), ("pandas.core.frame", "DataFrame")):
        formatters["text/html"].for_type_by_name(module, table, lambda frame: whole_text(frame._repr_html_))
    for module, table in (("pandas", "DataFrame"), ("pandas", "Series"),
                          ("pandas.core.frame", "DataFrame"), ("pandas.core.series", "Series")):
        formatters["text/plain"].for_type_by_name(
            module, table, lambda frame, printer, cycle: printer.text(whole_text(frame.__repr__)))


__all__ = ["show_in_notebooks", "figure_png", "whole_text"]
