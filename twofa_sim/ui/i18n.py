"""The texts of the widgets, in the language a trainer chooses (English by default, or German).

Every text a class sees goes through one :class:`Texts` object. Its English is the message id;
other languages come from a gettext catalogue (``locale/<language>/LC_MESSAGES/twofa_sim.po``),
read with Babel when a widget is built, so there is no compiled file to keep in step.

The login flow's answers and the events' details come as a message id with fields
(:meth:`Texts.say` renders them from the keyed entries of the same catalogue,
:mod:`twofa_sim.core.messages`). So do the errors a user's input raises (a refused username or
password, a database that cannot be opened): their text is for developers, their ``said`` is the
sentence in plain words (:meth:`Texts.error`). Nothing here reads words back into an id.
"""

from __future__ import annotations

import functools
import pathlib

from babel.messages.pofile import read_po

from ..core.errors import TwofaSimError, ValidationError
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

    def error(self, error: TwofaSimError) -> str:
        """An error, in plain words and in the chosen language where it says them (its ``said``);
        otherwise its text as it came."""
        return error.said.render(self.language) if error.said is not None else str(error)

    def yes_no(self, value: bool) -> str:
        return self("yes") if value else self("no")

    def __repr__(self) -> str:
        return f"Texts({self.language!r}, {len(self._catalogue)} translations)"


def texts(language: str = "en") -> Texts:
    return Texts(language)


__all__ = ["LANGUAGES", "Texts", "texts", "catalogue"]
