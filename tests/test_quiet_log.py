"""The class server's log redaction, record by record: what a handler writes holds no kernel id and
no secret parameter, in the message, its arguments or a traceback's text."""

from __future__ import annotations

import io
import logging

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
        for handler in logging.getLogger().handlers:
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
