"""The texts of the widgets, in the language a trainer chooses (English by default, or German).

Every text a class sees goes through one :class:`Texts` object. Its English is the message id;
other languages come from a gettext catalogue (``locale/<language>/LC_MESSAGES/twofa_sim.po``),
read with Babel when a widget is built, so there is no compiled file to keep in step.

The login flow's answers come as a message id with fields (:meth:`Texts.say` renders them from the
keyed entries of the same catalogue, :mod:`twofa_sim.core.messages`). Errors a user's input
raises (a refused username or password, a database that cannot be opened) are still worded for
developers: :meth:`Texts.message` recognises them by pattern and gives the sentence in plain
words, in the chosen language; a message no pattern knows is shown as it came.
"""

from __future__ import annotations

import functools
import pathlib
import re

from babel.messages.pofile import read_po

from ..core.errors import ValidationError
from ..core.messages import render

LANGUAGES = {"en": "English", "de": "Deutsch"}
LOCALE_DIR = pathlib.Path(__file__).with_name("locale")
DOMAIN = "twofa_sim"


@functools.lru_cache(maxsize=None)
def catalogue(language: str) -> dict[str, str]:
    """Message id to translation for ``language`` (English: empty, the ids are English)."""
    if language not in LANGUAGES:
        raise ValidationError("language", f"must be one of {', '.join(LANGUAGES)}, got {str(language)[:8]!r}")
    if language == "en":
        return {}
    with open(LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po", "rb") as po:
        return {message.id: message.string for message in read_po(po, locale=language)
                if message.id and message.string and not message.fuzzy and not message.context}


# Domain messages in, plain-words message ids out. The named groups fill the id's fields; a
# group called ``until`` is a time that stays as written.
DOMAIN_MESSAGES: list[tuple[re.Pattern, str]] = [(re.compile(pattern), msgid) for pattern, msgid in [
    # what an admin types (passwords.py, user.py, backoffice.py)
    (r"^password: must have at least (?P<minimum>\d+) characters, got (?P<got>\d+)$",
     "The password is too short: it needs at least {minimum} characters, this one has {got}."),
    (r"^password: must have at most (?P<maximum>\d+) characters, got (?P<got>\d+)$",
     "The password is too long: at most {maximum} characters, this one has {got}."),
    (r"^password: must not start or end with white space$", "The password must not start or end with a space."),
    (r"^password: must not contain the username$", "The password must not contain the username."),
    (r"^password: is on the list of common passwords$", "This password is too common: choose another one."),
    (r"^username: must be 3 to 64 characters",
     "The username needs 3 to 64 characters: letters, digits and . _ @ + - only."),
    (r"^username (?P<name>'.*') is taken \(usernames ignore case\)$",
     "The username {name} is taken (upper and lower case count as the same)."),
    (r"^username: (?P<name>'.*') has not enrolled: recovery codes back up an enrolled app$",
     "{name} has not set up an authenticator app yet: recovery codes only back up an app."),
    (r"^no user named (?P<name>'.*')$", "There is no user {name}."),
    (r"^create a company first: every backend user belongs to one$",
     "Create a company first: every backend user belongs to one."),
    # a class's database (store/sql.py), named on the page that cannot open it
    (r"^database file (?P<name>'.*'): cannot be opened \(does its folder exist, may it be written\?\)$",
     "The database file {name} cannot be opened. Check that its folder exists and may be written."),
    (r"^database file (?P<name>'.*'): is not an SQLite database$", "The file {name} is not an SQLite database."),
    (r"^database file (?P<name>'.*'): holds other tables: it is not a twofa-sim store$",
     "The database file {name} holds other tables: it is not a class database."),
    (r"^database file (?P<name>'.*'): has schema version (?P<found>.+); this twofa-sim reads version "
     r"(?P<version>\d+) \(use a new database file\)$",
     "The database file {name} has schema version {found}; this program reads version {version}. Use a new database file."),
    (r"^(?P<where>database .+): is locked by another process for too long \(\w+ timeout\); try again$",
     "The database is locked by another process for too long ({where}). Please try again."),
    # the class's database missing, deleted or replaced under the running class (store/sql.py)
    (r"^database file (?P<name>'.*'): does not exist$",
     "The class database {name} does not exist. The trainer creates it with Create class on the dashboard; "
     "then reload this page."),
    (r"^(?P<where>database .+): holds no twofa-sim store yet \(it was never created\)$",
     "The class database ({where}) holds no class yet. The trainer creates it with Create class on the dashboard; "
     "then reload this page."),
    (r"^database file (?P<name>'.*'): was deleted while in use: .*$",
     "The class database {name} was deleted while the class was running. Nothing more is saved here: reload the "
     "page (if the class is gone, the trainer creates a new one)."),
    (r"^database file (?P<name>'.*'): was replaced by another file while in use: .*$",
     "The class database {name} was replaced by another file while the class was running. Nothing more is saved "
     "here: reload the page to open the new file."),
    (r"^database file (?P<name>'.*'): lost its write-ahead log \(its -wal or -shm file was deleted or replaced "
     r"while in use\): .*$",
     "The class database {name} lost its write-ahead log: its -wal or -shm file was deleted while the class was "
     "running. Nothing more is saved here: reload the page."),
    (r"^(?P<where>database .+): was dropped and created anew while in use: .*$",
     "The class database ({where}) was dropped and created anew while the class was running. Nothing more is saved "
     "here: reload the page."),
    (r"^database file (?P<name>'.*'): is full \(no room left on its disk\): nothing of this action was saved$",
     "The class database {name} is full: its disk has no room left. Nothing of this action was saved."),
    (r"^database file (?P<name>'.*'): cannot be written \(a read-only file or folder\?\): nothing of this action "
     r"was saved$",
     "The class database {name} cannot be written (is the file or its folder read-only?). Nothing of this action "
     "was saved."),
    (r"^(?P<where>database .+): does not exist on its server \(create it first, e\.g\. with createdb\)$",
     "The class database ({where}) does not exist on its server. Create it first (for example with createdb)."),
    (r"^(?P<where>database .+): cannot be reached \(is the database server running\?\); "
     r"the next action tries again$",
     "The class database cannot be reached ({where}). Is its server running? The next action tries again."),
]]


class Texts:
    """``texts("Log in")`` is the button's label in the chosen language; fields fill ``{...}``."""

    def __init__(self, language: str = "en") -> None:
        self.language = language
        self._catalogue = catalogue(language)

    def __call__(self, msgid: str, **fields) -> str:
        text = self._catalogue.get(msgid, msgid)
        return text.format(**fields) if fields else text

    def say(self, key: str, **fields) -> str:
        """The message ``key`` of the keyed catalogue (a step result's ``message_key``), filled."""
        return render(key, self.language, **fields)

    def message(self, text: str) -> str:
        """A message from the domain, in plain words and in the chosen language."""
        for pattern, msgid in DOMAIN_MESSAGES:
            found = pattern.match(text)
            if found:
                return self(msgid, **found.groupdict())
        return text

    def yes_no(self, value: bool) -> str:
        return self("yes") if value else self("no")

    def __repr__(self) -> str:
        return f"Texts({self.language!r}, {len(self._catalogue)} translations)"


def texts(language: str = "en") -> Texts:
    return Texts(language)


__all__ = ["LANGUAGES", "Texts", "texts", "catalogue", "DOMAIN_MESSAGES"]
