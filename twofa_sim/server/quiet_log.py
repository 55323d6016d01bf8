"""The class server's log says what happened without handing anyone a way in.

A kernel's id is the address of its channels and a trainer's key is in the dashboard's address;
both used to reach the terminal (``Kernel started: <id>``, tornado's access log of any 4xx/5xx
with its query string), which a trainer may project or paste. Every record that reaches one of
the server's log handlers is rewritten here: a kernel id becomes a short tag that is stable for the
run (so lines about one kernel can still be followed) but cannot be turned back into the id, and
the value of any ``key``, ``token`` or ``_xsrf`` parameter becomes ``[secret]``.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets

from jupyter_server.log import log_request as jupyter_log_request

KERNEL_ID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
SECRET_PARAMETER = re.compile(r"(?i)\b(key|token|_xsrf|xsrf)=([^&\s'\"]*)")


class Redaction(logging.Filter):
    """Rewrites kernel ids and secret parameters in every record it sees (see the module)."""

    def __init__(self) -> None:
        super().__init__()
        self.salt = secrets.token_bytes(16)  # per run: the tag of an id means nothing outside this run

    def tag(self, kernel_id: str) -> str:
        return "kernel#" + hashlib.sha256(self.salt + kernel_id.lower().encode()).hexdigest()[:6]

    def redact(self, text: str) -> str:
        text = KERNEL_ID.sub(lambda match: self.tag(match.group(0)), text)
        return SECRET_PARAMETER.sub(lambda match: f"{match.group(1)}=[secret]", text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a record whose arguments do not fit its format: keep both, redacted
            message = f"{record.msg} {record.args!r}"
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            # A traceback is written by the handler's formatter after every filter has run, and its
            # last line may quote an id (the culler racing a tab's "closed" call: KeyError: '<id>');
            # formatted here, the formatter writes the redacted text instead.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


def install(redaction: Redaction, *loggers: logging.Logger) -> None:
    """Puts ``redaction`` on every handler the given loggers (and the root logger) write through,
    so a record of any library is rewritten before it is written anywhere. That includes Python's
    last resort, which writes a warning of a logger that finds no handler on its way to the root
    (tornado's ``404 GET /api/kernels/<id>: Kernel does not exist: <id>`` reached the terminal so)."""
    handlers = [handler for logger in (*loggers, logging.getLogger()) for handler in logger.handlers]
    for handler in (*handlers, logging.lastResort):
        if handler is not None and redaction not in handler.filters:
            handler.addFilter(redaction)


def log_request(handler) -> None:
    """jupyter_server's request logger (successes at debug level, the query string's ``key`` and
    ``token`` scrubbed), for a server whose default would be tornado's (the whole address)."""
    jupyter_log_request(handler, record_prometheus_metrics=False)
