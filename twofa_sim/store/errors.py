"""The error a SQL store raises when its database fails it: named, without SQL text or a traceback."""

from __future__ import annotations

from ..core.errors import TwofaSimError


class StoreError(TwofaSimError):
    """The database cannot be used: it cannot be opened, was locked too long, or has another
    schema version. ``where`` names the database (a file, or a server without its password)."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem
