"""`make lab` honours PORT and prints one clear address (with its token) that opens JupyterLab
without the Jupyter news pop-up;
`make app` serves the trainer app alone, with the project's Voila settings."""

from __future__ import annotations

import http.client
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
                    page = response.read()
                    assert response.status == 200 and b"JupyterLab" in page
                    # no "get notified about Jupyter news?" pop-up: the plug-in that asks is off
                    disabled = re.search(rb'"disabledExtensions": *\[([^\]]*)\]', page)
                    assert disabled and b'"@jupyterlab/apputils-extension:announcements"' in disabled.group(1)
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


def serve_class(port: int, database: pathlib.Path) -> dict[str, str] | None:
    """Run `make class` on ``port``; the two pages' HTML and what make printed, or None when
    another program took the port between choosing it and Voila binding it (then try another)."""
    make = subprocess.Popen(["make", "--no-print-directory", "class", f"PORT={port}", "HOST=127.0.0.1",
                             f"DB={database}", "TRAINEES=2"], cwd=ROOT, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True,
                            env=dict(os.environ, VENV=str(ROOT / ".venv")))
    try:
        printed, deadline = [], time.monotonic() + 60
        while time.monotonic() < deadline and not any("Trainees:" in line for line in printed):
            printed.append(make.stdout.readline())
        served = {"printed": "".join(printed)}
        trainer = re.search(rf"Trainer .*: (http://127\.0\.0\.1:{port}/voila/render/trainer\.ipynb\?key=[\w-]{{16}})",
                            served["printed"])
        trainee = re.search(rf"Trainees: +(http://127\.0\.0\.1:{port}/voila/render/trainee\.ipynb)$", served["printed"],
                            re.M)
        assert trainer and trainee, served["printed"]
        for page, address in (("trainer", trainer.group(1)), ("trainee", trainee.group(1))):
            while page not in served and time.monotonic() < deadline + 60:
                if make.poll() is not None:
                    return None  # Voila could not bind the port
                try:
                    with urllib.request.urlopen(address, timeout=60) as response:
                        served[page] = response.read().decode()
                except http.client.HTTPException:
                    return None  # something else answers on the port
                except OSError:
                    time.sleep(0.5)
        return served
    finally:
        os.killpg(make.pid, signal.SIGTERM)
        make.wait(timeout=30)


def test_make_class_serves_both_pages_on_one_server_with_the_chosen_port_and_database(tmp_path):
    """`make class` prints the trainer's address (with this run's key) and the trainees' address,
    and starts ONE class server (Voila) over notebooks/class on the chosen port and database."""
    database = tmp_path / "our class.sqlite"
    served = next(filter(None, (serve_class(free_port(), database) for _ in range(3))), None)
    assert served is not None, "three ports in a row were taken by other programs"
    assert f"sqlite:///{database}" in served["printed"], served["printed"]
    assert "ClassDashboard(no class yet)" in served.get("trainer", ""), "the trainer's address shows the dashboard"
    # before the trainer's Create class there is no database: the trainee's page says so in words,
    # and no page creates one (only creating the class does, on the database DB names)
    assert "ProblemPage(" in served.get("trainee", "") and "The class database" in served.get("trainee", ""), "the trainees' address names the missing class database"
    assert not database.exists(), "a page created the class's database before the class"


def test_make_class_takes_a_postgresql_url_as_it_is_and_prints_it_without_its_password():
    url = "postgresql+psycopg://class:Pa55word@127.0.0.1:9/class"
    plan = subprocess.run(["make", "-n", "--no-print-directory", "class", "PORT=9124", f"DB={url}"], cwd=ROOT,
                          text=True, capture_output=True, check=True).stdout
    assert f'case "{url}" in *://*) db="{url}"' in plan
    assert "-m twofa_sim.server notebooks/class" in plan and "--port=$port" in plan and "port=9124" in plan
    assert "TWOFA_SIM_TRAINER_KEY" in plan and "JUPYTER_PATH=" in plan
    make = subprocess.Popen(["make", "--no-print-directory", "class", f"PORT={free_port()}", "HOST=127.0.0.1",
                             f"DB={url}"], cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True, env=dict(os.environ, VENV=str(ROOT / ".venv")))
    try:
        printed, deadline = [], time.monotonic() + 60
        while time.monotonic() < deadline and not any("Trainees:" in line for line in printed):
            printed.append(make.stdout.readline())
    finally:
        os.killpg(make.pid, signal.SIGTERM)
        make.wait(timeout=30)
    text = "".join(printed)
    assert "database: postgresql+psycopg://class:***@127.0.0.1:9/class" in text and "Pa55word" not in text, text
