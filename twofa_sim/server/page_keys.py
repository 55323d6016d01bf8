"""Which page may reach which kernel: one key per served page.

Jupyter's only credential for a kernel is its id, which a page carries in its source and which
used to be printed in the server's log. Here a kernel's channels, its model and its shutdown
answer only a browser holding the key of the page that started it: a random value sent with that
page as an HttpOnly, SameSite=Strict cookie (one cookie per page, so several tabs of one browser
each keep their own). A classmate who learns a kernel's id (a photo of the projector, a log
line) holds no key for it; the dashboard's page, and so its key, is only served with the trainer's
key in the address.

A browser keeps one cookie jar per host, whatever the port, so two class servers on one machine
each receive the other's page cookies too. Each server names its cookies with a prefix of its own,
made when it starts, and reads and clears only those: otherwise the second server of a trainer's
browser cleared the first's page cookies as stale, and that page's "tab closed" call (and any
reconnection) was refused. The cookies of a server's earlier run are left to the browser, which
drops them when it closes (they carry no expiry).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping

COOKIE_PREFIX = "tfs_page_"  # then this server's own part, then the page's


class PageKeys:
    """The keys of the pages this server has served, each bound to its kernel once the page names it."""

    def __init__(self) -> None:
        self.kernel_of: dict[str, str | None] = {}  # key -> kernel id (None while the page is being rendered)
        self.notebook_of: dict[str, str] = {}  # key -> the notebook the page shows
        self.prefix = f"{COOKIE_PREFIX}{secrets.token_hex(3)}_"  # this server's page cookies

    def issue(self, notebook: str) -> tuple[str, str]:
        """A new page: the cookie's name and the key it carries."""
        key = secrets.token_urlsafe(24)
        self.kernel_of[key] = None
        self.notebook_of[key] = notebook
        return self.prefix + secrets.token_hex(4), key

    def _own(self, cookies: Mapping[str, str]) -> list[tuple[str, str]]:
        """This server's page cookies among a request's (name, value)."""
        return [(name, value) for name, value in cookies.items() if name.startswith(self.prefix)]

    def bind(self, key: str, kernel_id: str) -> None:
        if key in self.kernel_of:
            self.kernel_of[key] = kernel_id

    def forget(self, key: str) -> None:
        self.kernel_of.pop(key, None)
        self.notebook_of.pop(key, None)

    def key_for(self, cookies: Mapping[str, str], kernel_id: str) -> str | None:
        """The key among a request's cookies that opens ``kernel_id``, if any."""
        for _, value in self._own(cookies):
            if value in self.kernel_of and self.kernel_of[value] == kernel_id:
                return value
        return None

    def pages_in(self, cookies: Mapping[str, str], notebook: str) -> list[tuple[str, str]]:
        """The (key, kernel id) of each page of ``notebook`` bound to a kernel among a request's cookies."""
        return [(value, self.kernel_of[value]) for _, value in self._own(cookies)
                if self.kernel_of.get(value) is not None and self.notebook_of.get(value) == notebook]

    def stale_cookies(self, cookies: Mapping[str, str]) -> list[str]:
        """Names of this server's page cookies whose page is gone (their kernel ended): the browser may drop them."""
        return [name for name, value in self._own(cookies) if value not in self.kernel_of]

    def prune(self, alive: Iterable[str]) -> None:
        """Forgets the pages whose kernel has ended (shut down, culled); pages still rendering stay."""
        alive = set(alive)
        for key, kernel_id in list(self.kernel_of.items()):
            if kernel_id is not None and kernel_id not in alive:
                self.forget(key)

    def pages(self) -> int:
        """Pages of any notebook holding a kernel or about to (call :meth:`prune` first)."""
        return len(self.notebook_of)

    def pages_of(self, notebook: str) -> int:
        """Pages of ``notebook`` holding a kernel or about to (call :meth:`prune` first)."""
        return sum(1 for key, name in self.notebook_of.items() if name == notebook)

    def __repr__(self) -> str:  # never the keys or the kernel ids
        return f"PageKeys({len(self.kernel_of)} pages)"
