"""The README's list of notebooks names every chapter, and only chapters that exist."""

from __future__ import annotations

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_the_readme_lists_exactly_the_notebooks():
    readme = (ROOT / "README.md").read_text()
    listed = set(re.findall(r"^\| `([0-9a-z_]+)` \|", readme, flags=re.MULTILINE))
    chapters = {path.stem for path in (ROOT / "notebooks").glob("*.ipynb")}
    assert chapters <= listed, f"not in the README: {sorted(chapters - listed)}"
    assert {name for name in listed if re.match(r"\d\d_|trainer_app", name)} == chapters
