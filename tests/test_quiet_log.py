"""The class server's log redaction, record by record: what a handler writes holds no kernel id and
no secret parameter, in the message, its arguments or a traceback's text."""

from __future__ import annotations

import io
import logging
import subprocess
import sys

import pytest

from twofa_sim.server.quiet_log import Redaction, install

KERNEL = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
KEY = "trainer-key-4711"


def _written(log_call) -> str:
    """What a handler with the redaction installed writes for one call on a fresh logger."""
    stream = io.StringIO()
    logger = logging.getLogger(f"quiet-log-test-{id(stream)}")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(logging.StreamHandler(stream))
    redaction = Redaction()
    install(redaction, logger)
    try:
        log_call(logger)
    finally:
        logging.getLogger().removeFilter(redaction)
        for handler in (*logging.getLogger().handlers, logging.lastResort):
            handler.removeFilter(redaction)
    return stream.getvalue()


def _raise_key_error(logger: logging.Logger) -> None:
    try:
        {}[KERNEL]
    except KeyError:
        logger.exception("culling kernel failed")


@pytest.mark.parametrize("what, log_call", [
    ("the message", lambda logger: logger.info(f"Kernel started: {KERNEL}")),
    ("the arguments", lambda logger: logger.info("Kernel started: %s", KERNEL)),
    ("a secret parameter", lambda logger: logger.warning("404 GET /voila/render/dashboard.ipynb?key=%s", KEY)),
    ("a traceback's last line", _raise_key_error),
])
def test_a_written_record_holds_no_kernel_id_and_no_key(what: str, log_call) -> None:
    written = _written(log_call)
    assert written, f"{what}: nothing was written"
    assert KERNEL not in written and KEY not in written, f"{what} reached the log: {written!r}"
    assert "kernel#" in written or "[secret]" in written, f"{what}: no tag in its place: {written!r}"


def test_a_traceback_is_still_written_redacted() -> None:
    written = _written(_raise_key_error)
    assert "Traceback" in written and "KeyError: 'kernel#" in written


def test_a_warning_of_a_logger_without_handlers_is_written_redacted() -> None:
    """tornado logs a 404 of a kernel's model with its id; with no handler on the way to the root,
    Python's last resort writes it to the terminal (a process of its own: pytest puts handlers on
    the root logger, so the last resort is never reached in this one)."""
    script = ("import logging; from twofa_sim.server.quiet_log import Redaction, install; "
              "install(Redaction(), logging.getLogger('ClassServer')); "
              f"logging.getLogger('tornado.general').warning('404 GET /api/kernels/%s?key=%s: Kernel does not exist',"
              f" {KERNEL!r}, {KEY!r})")
    written = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stderr
    assert "404 GET /api/kernels/kernel#" in written and "key=[secret]" in written
    assert KERNEL not in written and KEY not in written
