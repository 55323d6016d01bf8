"""The twofa-sim command: exit codes, what it prints, what it writes; the demo."""

from __future__ import annotations

import io
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tomllib

import pytest
import zxingcpp
from PIL import Image

from twofa_sim.io.cli import main, qr_matrix, qr_text

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "data" / "scenarios").glob("*.yaml"))

GOOD = """\
name: bob logs in with his password
users:
  bob: {}
steps:
  - login: bob
    expect: {state: AUTHENTICATED}
"""

WRONG = """\
name: alice expects no QR code
users:
  alice: {force_2fa: true}
steps:
  - login: {user: alice, password: nope nope nope}
  - login: alice
    expect:
      state: ENROLMENT
      qr_shown: false
"""

BROKEN = """\
name: a typo
users:
  alice: {}
steps:
  - login: alice
    expect: {stat: AUTHENTICATED}
"""


def cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def files(tmp_path):
    for name, text in (("good.yaml", GOOD), ("wrong.yaml", WRONG), ("broken.yaml", BROKEN)):
        (tmp_path / name).write_text(text)
    return tmp_path


def test_run_exits_0_when_every_expectation_holds(files):
    code, out, err = cli("run", str(files / "good.yaml"))
    assert (code, err) == (0, "")
    assert "  time      actor           action" in out
    assert "  09:00:00  bob             logs in with username and password" in out
    assert "2FA not required -> AUTHENTICATED" in out and "ok    state = AUTHENTICATED" in out
    assert out.rstrip().splitlines()[-1].startswith("scenarios: 1 passed, 0 failed")


def test_run_exits_1_naming_the_step_and_what_differed(files):
    code, out, err = cli("run", str(files / "good.yaml"), str(files / "wrong.yaml"))
    assert (code, err) == (1, "")
    wrong = str(files / "wrong.yaml")
    assert f"  {wrong}: step 2 (line 6: logs in with username and password): qr_shown: expected false, got true " \
           f"(line 9)" in out
    assert "FAIL  qr_shown: expected false, got true" in out
    assert out.rstrip().splitlines()[-1].startswith("scenarios: 1 passed, 1 failed")


def test_run_exits_2_for_a_broken_file_naming_file_and_line_and_runs_nothing(files, tmp_path):
    artifacts = tmp_path / "artifacts"
    code, out, err = cli("run", str(files / "good.yaml"), str(files / "broken.yaml"), "--artifacts", str(artifacts))
    assert code == 2 and out == ""
    assert f"error: {files / 'broken.yaml'}:6: expect has no setting 'stat'; did you mean 'state'?" in err
    assert "1 of 2 scenario files are invalid; nothing was run" in err
    assert not artifacts.exists()


@pytest.mark.parametrize("args, words", [
    (("run", "no-such-file.yaml"), "no-such-file.yaml:1: cannot read the file"),
    (("run",), "the following arguments are required: FILE"),
    ((), "the following arguments are required: COMMAND"),
    (("fly",), "invalid choice: 'fly'"),
    (("demo", "--seed", "seven"), "invalid int value: 'seven'"),
])
def test_usage_errors_exit_2(args, words, capsys):
    code, out, err = cli(*args)
    assert code == 2 and out == ""
    assert words in err + capsys.readouterr().err


def test_an_empty_folder_is_an_error(tmp_path):
    assert cli("run", str(tmp_path))[0] == 2


def test_a_folder_means_its_yaml_files(files, tmp_path):
    (files / "broken.yaml").unlink()
    (files / "wrong.yaml").unlink()
    (files / "notes.txt").write_text("not a scenario")
    code, out, _ = cli("run", "-q", str(files))
    assert code == 0
    assert out.splitlines() == [f"PASS {files / 'good.yaml'}: 1 steps, 1 checks", out.splitlines()[-1]]


def test_quiet_prints_failures_and_one_line_per_scenario(files):
    code, out, _ = cli("run", "--quiet", str(files / "wrong.yaml"))
    assert code == 1
    assert "time      actor" not in out
    assert f"FAIL {files / 'wrong.yaml'}: 2 steps, 2 checks, 1 failed" in out


def test_artifacts_go_to_one_folder_per_scenario(files, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "good.yaml").write_text(GOOD.replace("bob", "carol"))
    artifacts = tmp_path / "out"
    code, out, _ = cli("run", str(files / "good.yaml"), str(files / "wrong.yaml"), str(other / "good.yaml"),
                       "--artifacts", str(artifacts))
    assert code == 1
    assert sorted(str(p.relative_to(artifacts)) for p in artifacts.rglob("*")) == [
        "good", "good-2", "good-2/events.csv", "good/events.csv",
        "wrong", "wrong/events.csv", "wrong/qr-alice-1.png"]
    assert f"artifacts written to {artifacts}" in out


# -- the QR code as text --------------------------------------------------------------------------

def read_back(text: str, *, invert: bool, ascii_only: bool) -> list[list[bool]]:
    """The module matrix a terminal shows, read back from the text (True = dark)."""
    rows: list[list[bool]] = []
    for line in text.splitlines():
        if ascii_only:
            cells = [line[i:i + 2] == "##" for i in range(0, len(line), 2)]
            rows.append(cells)
        else:
            top = [ch in "\u2588\u2580" for ch in line]
            bottom = [ch in "\u2588\u2584" for ch in line]
            rows += [top, bottom]
    assert len({len(r) for r in rows}) == 1, "every line is as wide as the code"
    return [[cell == invert for cell in row] for row in rows]


def image_of(matrix: list[list[bool]], scale: int = 4) -> Image.Image:
    image = Image.new("L", (len(matrix[0]), len(matrix)), 255)
    image.putdata([0 if dark else 255 for row in matrix for dark in row])
    return image.resize((image.width * scale, image.height * scale), Image.NEAREST)


@pytest.mark.parametrize("invert", [False, True])
@pytest.mark.parametrize("ascii_only", [False, True])
def test_the_text_qr_code_holds_the_uri(invert, ascii_only):
    uri = "otpauth://totp/plenigo:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=plenigo"
    text = qr_text(uri, invert=invert, ascii_only=ascii_only)
    matrix = qr_matrix(uri)
    shown = read_back(text, invert=invert, ascii_only=ascii_only)
    if not ascii_only and len(matrix) % 2:
        assert not any(shown[-1]), "the padding row is quiet zone"
        shown = shown[:-1]
    assert shown == matrix
    decoded = zxingcpp.read_barcodes(image_of(shown))
    assert [d.text for d in decoded] == [uri]
    assert set(text) <= (set("# \n") if ascii_only else set("\u2588\u2580\u2584 \n"))


# -- the demo -------------------------------------------------------------------------------------

def test_demo_with_a_seed_is_deterministic_and_saves_the_qr(tmp_path):
    first, again = tmp_path / "a", tmp_path / "b"
    code1, out1, _ = cli("demo", "--seed", "7", "--out", str(first))
    code2, out2, _ = cli("demo", "--seed", "7", "--out", str(again))
    assert code1 == code2 == 0
    assert out1.replace(str(first), "DIR") == out2.replace(str(again), "DIR")
    assert (first / "qr-alice-1.png").read_bytes() == (again / "qr-alice-1.png").read_bytes()
    assert sorted(p.name for p in first.iterdir()) == ["events.csv", "page-alice-1.png", "qr-alice-1.png"]
    uri = zxingcpp.read_barcodes(Image.open(first / "qr-alice-1.png"))[0].text
    art = "\n".join(line[4:] for line in out1.splitlines() if line.startswith("    ") and set(line.strip()) <= set("\u2588\u2580\u2584 "))
    shown = read_back(art, invert=False, ascii_only=False)
    assert zxingcpp.read_barcodes(image_of(shown))[0].text == uri
    secret = re.search(r"secret=([A-Z2-7]+)", uri).group(1)
    assert f"Or enter this key by hand: {' '.join(secret[i:i + 4] for i in range(0, len(secret), 4))}" in out1
    for words in ("The admin creates the backend user alice", "Step 1: alice installs the Authenticator add-on",
                  "Step 2:", "Step 3:", "-> ENROLMENT, QR shown", "entry added; plenigo: alice",
                  "accepted -> AUTHENTICATED", "2FA required, enrolled -> CODE_REQUIRED", "PASS twofa-sim demo"):
        assert words in out1
    other = cli("demo", "--seed", "8", "--out", str(tmp_path / "c"))[1]
    assert "Or enter this key by hand" in other and other != out1


def test_demo_without_a_seed_runs_on_the_wall_clock(tmp_path):
    code, out, _ = cli("demo", "--out", str(tmp_path))
    assert code == 0 and "live: clock from this computer" in out
    assert (tmp_path / "qr-alice-1.png").exists()


def test_demo_falls_back_to_ascii_on_a_terminal_without_block_characters(tmp_path):
    buffer = io.BytesIO()
    out = io.TextIOWrapper(buffer, encoding="ascii", newline="\n")
    assert main(["demo", "--seed", "3", "--out", str(tmp_path)], out=out, err=io.StringIO()) == 0
    out.flush()
    text = buffer.getvalue().decode("ascii")
    assert "########" in text and "QR code, page and event log saved" in text


# -- installed as a command -----------------------------------------------------------------------

def test_the_console_script_is_declared_and_installed():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"twofa-sim": "twofa_sim.io.cli:main"}
    script = shutil.which("twofa-sim", path=os.path.dirname(sys.executable))
    assert script is not None, "pip install -e . puts twofa-sim next to the interpreter"
    done = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "run" in done.stdout and "demo" in done.stdout


def test_python_dash_m_runs_every_data_scenario_and_the_demo(tmp_path):
    done = subprocess.run([sys.executable, "-m", "twofa_sim", "run", "-q", *map(str, SCENARIOS)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"scenarios: {len(SCENARIOS)} passed, 0 failed" in done.stdout
    demo = subprocess.run([sys.executable, "-m", "twofa_sim", "demo", "--seed", "7"], capture_output=True,
                          text=True, timeout=120, cwd=tmp_path, env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert (tmp_path / "artifacts" / "demo" / "qr-alice-1.png").exists()


@pytest.mark.parametrize("names, folders", [
    (["a/x.yaml", "b/x.yaml", "c/x-2.yaml"], ["x", "x-2", "x-2-2"]),
    (["a/x.yaml", "b/X.yaml"], ["x", "X-2"]),
    (["a/...yaml"], ["scenario"]),
    (["a/..yaml", "b/.hidden.yaml"], ["scenario", "hidden"]),
    (["a/über prüfung.yaml"], ["über_prüfung"]),
    (["a/x.yaml", "b/x.yml"], ["x", "x-2"]),
])
def test_every_scenario_gets_its_own_folder_inside_the_artifacts_folder(tmp_path, names, folders):
    paths = []
    for index, name in enumerate(names):
        path = tmp_path / "in" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(GOOD.replace("bob", f"user{index}"))
        paths.append(str(path))
    artifacts = tmp_path / "out" / "artifacts"
    code, out, _ = cli("run", *paths, "--artifacts", str(artifacts))
    assert code == 0, out
    assert sorted(p.name for p in artifacts.iterdir()) == sorted(folders)
    for folder in folders:
        assert (artifacts / folder / "events.csv").is_file()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["artifacts"], "nothing is written beside it"


def test_a_link_already_in_the_artifacts_folder_is_not_followed(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    (artifacts / "x").symlink_to(elsewhere)
    (tmp_path / "x.yaml").write_text(GOOD)
    assert cli("run", str(tmp_path / "x.yaml"), "--artifacts", str(artifacts))[0] == 0
    assert (artifacts / "x-2" / "events.csv").is_file() and not any(elsewhere.iterdir())
