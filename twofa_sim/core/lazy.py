"""Names a package imports on first use (PEP 562), safe under freezegun.

freezegun's ``freeze_time`` puts subclasses in place of ``datetime.date`` and ``datetime.datetime``
in the ``datetime`` module; a C extension that checks those types when it is first imported
(pandas' time parts) then crashes the interpreter. So a name is imported with the real classes put
back for the length of the import, and a package's ``dir()`` lists only what is loaded: freezegun
walks every attribute of every module when time is frozen, and would otherwise import pandas then.
"""

from __future__ import annotations

import contextlib
import datetime
import importlib
import sys
from typing import Iterator


@contextlib.contextmanager
def real_datetime_types() -> Iterator[None]:
    """The ``datetime`` module's own classes while the block runs, if freezegun replaced them."""
    api = sys.modules.get("freezegun.api")
    if api is None or (datetime.date is api.real_date and datetime.datetime is api.real_datetime):
        yield
        return
    frozen = datetime.date, datetime.datetime
    datetime.date, datetime.datetime = api.real_date, api.real_datetime
    try:
        yield
    finally:
        datetime.date, datetime.datetime = frozen


def import_name(module: str, package: str, name: str) -> object:
    """``name`` from ``module`` (relative to ``package``), imported as :func:`real_datetime_types` says."""
    with real_datetime_types():
        return getattr(importlib.import_module(module, package), name)
