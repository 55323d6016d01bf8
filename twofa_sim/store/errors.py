"""The errors a SQL store raises when its database fails it: named, without SQL text or a traceback."""

from __future__ import annotations

from ..core.errors import TwofaSimError
from ..core.messages import Said


class StoreError(TwofaSimError):
    """The database cannot be used: it cannot be opened, was locked too long, has another schema
    version, or was deleted or replaced while in use. ``where`` names the database (a file, or a
    server without its password)."""

    def __init__(self, where: str, problem: str, *, said: Said | None = None) -> None:
        super().__init__(f"{where}: {problem}", said=said)
        self.where = where
        self.problem = problem


class MissingDatabaseError(StoreError):
    """The database holds no store, and this store was not asked to create one: a page that only
    opens the class's database meets a file that does not exist (yet, or any more)."""
