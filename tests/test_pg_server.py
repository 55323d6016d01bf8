"""The throw-away PostgreSQL server does not outlive a test run stopped by a signal."""

from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys
import textwrap
import time

import pytest

HERE = pathlib.Path(__file__).resolve().parent

HOLDER = textwrap.dedent("""
    import json, sys, time
    sys.path.insert(0, sys.argv[1])
    from pg_server import PostgresServer
    server = PostgresServer()
    reason = server.start()
    print(json.dumps({"reason": reason, "folder": str(server.folder) if server.folder else None}), flush=True)
    if reason is None:
        time.sleep(600)
""")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_a_killed_run_leaves_no_server_behind(how):
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(HERE)], stdout=subprocess.PIPE, text=True)
    try:
        started = json.loads(holder.stdout.readline())
        if started["reason"] is not None:
            pytest.skip(f"no throw-away PostgreSQL server: {started['reason']}")
        folder = pathlib.Path(started["folder"])
        server_pid = int((folder / "data" / "postmaster.pid").read_text().split()[0])
        assert alive(server_pid)
        holder.send_signal(how)
        holder.wait(timeout=30)
        deadline = time.monotonic() + 60
        while (alive(server_pid) or folder.exists()) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not alive(server_pid), "the server outlived the killed run"
        assert not folder.exists(), "the server's folder outlived the killed run"
    finally:
        if holder.poll() is None:
            holder.kill()


SETTING_UP = textwrap.dedent("""
    import json, sys
    sys.path.insert(0, sys.argv[1])
    from pg_server import PostgresServer
    server = PostgresServer()
    run = server._run

    def announced(*args):  # says where the server's folder is, once initdb starts filling it
        if args[0] == "initdb":
            print(json.dumps({"folder": str(server.folder)}), flush=True)
        return run(*args)

    server._run = announced
    print(json.dumps({"reason": server.start()}), flush=True)
""")


def processes_on(folder: pathlib.Path) -> list[int]:
    """The processes whose command line names ``folder`` (initdb, pg_ctl, the server)."""
    found = []
    for entry in pathlib.Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and str(folder).encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def test_a_run_killed_while_the_server_is_set_up_leaves_nothing_behind():
    """Killed while initdb fills the folder (the finalizer and the started server's stop never come):
    initdb and the start it was part of are waited for, and whatever started is stopped and removed."""
    holder = subprocess.Popen([sys.executable, "-c", SETTING_UP, str(HERE)], stdout=subprocess.PIPE, text=True)
    try:
        announced = json.loads(holder.stdout.readline())
        if "reason" in announced:
            pytest.skip(f"no throw-away PostgreSQL server: {announced['reason']}")
        folder = pathlib.Path(announced["folder"])
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
        deadline = time.monotonic() + 60
        while (processes_on(folder) or folder.exists()) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert processes_on(folder) == [], "initdb or a server outlived the killed run"
        assert not folder.exists(), "the server's folder outlived the killed run"
    finally:
        if holder.poll() is None:
            holder.kill()
