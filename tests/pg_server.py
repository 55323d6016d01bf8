"""A throw-away PostgreSQL server for the store's tests, started from Debian's ``postgresql``
package (initdb + pg_ctl), or the reason why none can be started here.

PostgreSQL refuses to run as root; as root the server runs as the ``postgres`` user (or ``nobody``)
with a data folder and a socket folder that user owns. The server listens only on its socket.

A test run stopped by a signal (Ctrl-C, a CI timeout, ``kill -9``) runs no fixture's finalizer: a
watcher process, started in a session of its own as soon as the server's folder exists (before
initdb), holds one end of a pipe whose other end only the test process holds. When the test process
ends, however it ends, the pipe closes and the watcher waits for an initdb or a start still under
way, stops the server and removes its folder.
"""

from __future__ import annotations

import glob
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
import pytest


def _bindir() -> Path | None:
    found = shutil.which("pg_config")
    candidates = []
    if found:
        out = subprocess.run([found, "--bindir"], capture_output=True, text=True, check=False).stdout.strip()
        candidates.append(out)
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for folder in candidates:
        if folder and (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    return None


class PostgresServer:
    """Start with :meth:`start` (returns None, or the reason it could not start); stop with :meth:`stop`."""

    def __init__(self) -> None:
        self.folder: Path | None = None
        self.bindir: Path | None = None
        self.user = ""
        self.port = 0
        self._databases = 0
        self._lifeline: int | None = None

    def _command(self, *args: str) -> list[str]:
        command = [str(self.bindir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", self.user, "--", *command]
        return command

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(self._command(*args), capture_output=True, text=True, timeout=120, check=False)

    def _watch(self) -> None:
        """Start the watcher that stops the server when this process ends without calling :meth:`stop`."""
        assert self.folder is not None
        stop = self._command("pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop")
        read, self._lifeline = os.pipe()   # neither end is inherited by other children
        subprocess.Popen([sys.executable, "-c", _WATCHER, str(read), json.dumps(stop), str(self.folder)],
                         pass_fds=(read,), start_new_session=True, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(read)

    def start(self) -> str | None:
        self.bindir = _bindir()
        if self.bindir is None:
            return "PostgreSQL's initdb and pg_ctl are not installed (Debian package 'postgresql')"
        self.user = pwd.getpwuid(os.geteuid()).pw_name
        if os.geteuid() == 0:
            if not shutil.which("runuser"):
                return "running as root without runuser, and PostgreSQL refuses to run as root"
            self.user = next((u for u in ("postgres", "nobody") if _has_user(u)), "")
            if not self.user:
                return "running as root and no unprivileged user (postgres, nobody) to run PostgreSQL"
        self.folder = Path(tempfile.mkdtemp(prefix="twofa-pg-"))
        self._watch()  # from here on: initdb and the server's start take seconds, a stop may come meanwhile
        os.chmod(self.folder, 0o755)
        if os.geteuid() == 0:
            shutil.chown(self.folder, self.user)
        data, sockets = self.folder / "data", self.folder / "sockets"
        made = self._run("initdb", "-D", str(data), "--auth=trust", "--username=twofa", "--encoding=UTF8",
                         "--no-sync")
        if made.returncode != 0:
            return f"initdb failed: {made.stderr.strip().splitlines()[-1:] or made.returncode}"
        self._run_mkdir(sockets)
        self.port = 54000 + os.getpid() % 1000
        self.sockets = sockets
        return self.resume()

    def resume(self) -> str | None:
        """Start the server on its data folder (again): None, or why it did not start."""
        options = f"-c listen_addresses='' -c unix_socket_directories={self.sockets} -p {self.port} -c fsync=off"
        started = self._run("pg_ctl", "-D", str(self.folder / "data"), "-o", options,
                            "-l", str(self.folder / "server.log"), "-w", "-t", "60", "start")
        if started.returncode != 0:
            log = (self.folder / "server.log")
            tail = log.read_text(errors="replace").strip().splitlines()[-1:] if log.exists() else []
            return f"pg_ctl could not start a server: {tail or started.stderr.strip()}"
        return None

    def pause(self) -> None:
        """Stop the server, as a restart or an outage would, keeping its databases for :meth:`resume`."""
        stopped = self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop")
        assert stopped.returncode == 0, stopped.stderr

    def _run_mkdir(self, folder: Path) -> None:
        folder.mkdir()
        if os.geteuid() == 0:
            shutil.chown(folder, self.user)

    def new_database(self) -> str:
        """A fresh empty database on the server; its SQLAlchemy URL."""
        self._databases += 1
        name = f"class{self._databases}"
        with psycopg.connect(host=str(self.sockets), port=self.port, user="twofa", dbname="postgres",
                             autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql://twofa@/{name}?host={self.sockets}&port={self.port}"

    def stop(self) -> None:
        if self.folder is None:
            return
        if self.bindir is not None and (self.folder / "data" / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder = None
        if self._lifeline is not None:
            os.close(self._lifeline)   # the watcher finds nothing left to do and ends
            self._lifeline = None


_WATCHER = """
import json, os, shutil, subprocess, sys, time
lifeline, stop, folder = int(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
try:
    while os.read(lifeline, 1):
        pass
except OSError:
    pass

def setting_up():  # an initdb or pg_ctl start on this folder, left running by the ended test process
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            argv = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\\0")
        except OSError:
            continue
        if os.path.basename(argv[0]) in (b"initdb", b"pg_ctl") and any(folder.encode() in a for a in argv):
            return True
    return False

deadline = time.monotonic() + 60
while setting_up() and time.monotonic() < deadline:
    time.sleep(0.2)
if os.path.exists(os.path.join(folder, "data", "postmaster.pid")):
    subprocess.run(stop, capture_output=True, timeout=60)
shutil.rmtree(folder, ignore_errors=True)
"""


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def started_or_skip() -> "PostgresServer":
    """A throw-away PostgreSQL server, started; the test is skipped, with the reason, where none starts."""
    server = PostgresServer()
    reason = server.start()
    if reason is not None:
        server.stop()
        pytest.skip(f"no throw-away PostgreSQL server: {reason}")
    return server


@pytest.fixture(scope="session")
def postgres():
    """A throw-away PostgreSQL server for the whole test run; skipped, with the reason, where none starts."""
    server = started_or_skip()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path) -> str:
    """The URL of a new, empty database: an SQLite file, or a database on the throw-away server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'class.sqlite'}"
    return request.getfixturevalue("postgres").new_database()
