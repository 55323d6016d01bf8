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


def connection_lost(message: str) -> bool:
    """A PostgreSQL server that is down, restarting or closed the connection (psycopg's words);
    not one that answered with a refusal (a wrong password, a database that does not exist)."""
    lowered = message.casefold()
    going = ("terminating connection", "the database system is shutting down", "the database system is starting up")
    if "fatal:" in lowered and not any(words in lowered for words in going):
        return False
    return any(words in lowered for words in (
        "connection failed", "connection is bad", "connection to server", "server closed the connection",
        "consuming input failed", "connection is closed", *going))
