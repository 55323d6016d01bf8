"""`make lab` honours PORT and prints one clear address (with its token) that opens JupyterLab;
`make app` serves the trainer app alone, with the project's Voila settings."""

from __future__ import annotations

import os
import pathlib
import re
import signal
import socket
import subprocess
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_make_lab_prints_an_address_that_opens_jupyterlab_on_the_chosen_port():
    port = free_port()
    make = subprocess.Popen(["make", "--no-print-directory", "lab", f"PORT={port}"], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True,
                            env=dict(os.environ, VENV=str(ROOT / ".venv")))
    try:
        address = None
        deadline = time.monotonic() + 60
        while address is None and time.monotonic() < deadline:
            line = make.stdout.readline()
            found = re.search(r"JupyterLab: open (http://127\.0\.0\.1:(\d+)/lab\?token=[0-9a-f]{32})", line)
            if found:
                address = found.group(1)
                assert int(found.group(2)) == port
        assert address, "make lab printed no address"
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(address, timeout=5) as response:
                    assert response.status == 200 and b"JupyterLab" in response.read()
                    break
            except OSError:
                time.sleep(0.5)
        else:
            raise AssertionError(f"nothing answered at {address}")
    finally:
        os.killpg(make.pid, signal.SIGTERM)
        make.wait(timeout=30)


def test_make_app_serves_the_app_notebook_with_the_projects_voila_settings():
    plan = subprocess.run(["make", "-n", "--no-print-directory", "app", "PORT=9123"], cwd=ROOT, text=True,
                          capture_output=True, check=True).stdout
    assert "voila notebooks/trainer_app.ipynb" in plan and "--port=9123" in plan
    assert "JUPYTER_PATH=" in plan and "jupyter trust notebooks/trainer_app.ipynb" in plan
    assert (ROOT / "voila.json").is_file()
