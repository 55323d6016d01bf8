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
