"""pyproject.toml and environment.yml list the same dependencies."""

from __future__ import annotations

import pathlib
import re
import tomllib

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent


def names(requirements) -> set[str]:
    return {re.split(r"[<>=!~ \[]", r, maxsplit=1)[0].strip().lower().replace("_", "-") for r in requirements}


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    wanted = names(project["dependencies"]) | names(extras["test"]) | names(extras["peers"])
    conda = yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
    from_pip = next(d["pip"] for d in conda if isinstance(d, dict))
    listed = names(d for d in conda if isinstance(d, str)) | names(p for p in from_pip if not p.startswith("-e"))
    listed -= {"python", "pip"}
    assert listed == wanted


def test_package_is_typed_and_exports_a_short_api():
    import twofa_sim
    assert (ROOT / "twofa_sim" / "py.typed").exists()
    assert all(hasattr(twofa_sim, name) for name in twofa_sim.__all__)
