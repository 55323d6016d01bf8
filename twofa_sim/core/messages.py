"""The words the domain says, keyed by id: English source and translations in one catalogue.

Each entry of the gettext catalogue ``twofa_sim/ui/locale/<language>/LC_MESSAGES/twofa_sim.po``
whose context (``msgctxt``) is a message id holds that message's English source (``msgid``) and
its translation (``msgstr``), as gettext keeps a source text and its translation side by side. The
login flow names a message by id with its fields (a step result's ``message_key`` and ``message_fields``); whoever shows it renders it
in the reader's language with :func:`render`. Nothing turns words back into an id, so rewording
the English leaves every translation in place.
"""

from __future__ import annotations

import functools
import pathlib
from dataclasses import dataclass

from babel.messages.pofile import read_po

LOCALE_DIR = pathlib.Path(__file__).parents[1] / "ui" / "locale"
"""Where the catalogues are (the widgets' folder: one catalogue holds every text of the package)."""

CATALOGUE = LOCALE_DIR / "de" / "LC_MESSAGES" / "twofa_sim.po"
"""The catalogue that holds the keyed messages' English sources and their German."""

SILENT = "none"
"""The id of "nothing to say" (a row with no message)."""


@dataclass(frozen=True)
class KeyedMessages:
    """Message id to English source, and language to (message id to translation)."""

    english: dict[str, str]
    translations: dict[str, dict[str, str]]

    def text(self, key: str, language: str = "en") -> str:
        """The unfilled text of ``key`` in ``language`` (English where a translation is missing)."""
        if key == SILENT or not key:
            return ""
        try:
            source = self.english[key]
        except KeyError:
            raise KeyError(f"no message with id {key!r} in the catalogue") from None
        return self.translations.get(language, {}).get(key) or source


def read_keyed_messages(path: pathlib.Path | str = CATALOGUE, language: str = "de") -> KeyedMessages:
    """The keyed entries (those with a ``msgctxt``) of the catalogue at ``path``."""
    with open(path, "rb") as po:
        entries = [m for m in read_po(po, locale=language) if m.context and m.id]
    return KeyedMessages({m.context: m.id for m in entries},
                         {language: {m.context: m.string for m in entries if m.string and not m.fuzzy}})


@functools.lru_cache(maxsize=None)
def keyed_messages() -> KeyedMessages:
    """The package's keyed messages (read once per process)."""
    return read_keyed_messages()


AS_WRITTEN = "as_written"
"""The id of a text kept as it was written (an event recorded before events carried a message id:
its English is all there is, and it is shown as it is in every language)."""


@dataclass(frozen=True)
class Said:
    """A message by id with its fields, in no language yet: what an event's detail or an error
    says; whoever shows it renders it in the reader's language."""

    key: str
    fields: tuple[tuple[str, object], ...] = ()

    def render(self, language: str = "en", messages: KeyedMessages | None = None) -> str:
        if messages is not None:
            return render(self.key, language, messages, **dict(self.fields))
        return render_fields(self.key, self.fields, language)

    def __str__(self) -> str:
        return self.render()


NOTHING = Said("")
"""Nothing said (an event without a detail: its id is empty)."""


def say(key: str, **fields: object) -> Said:
    """``key`` with its fields (in name order, so equal messages are equal)."""
    return Said(key, tuple(sorted(fields.items())))


def as_written(text: str) -> Said:
    """A text kept as written (see :data:`AS_WRITTEN`); nothing to say for an empty one."""
    return Said(AS_WRITTEN, (("text", text),)) if text else NOTHING


@functools.lru_cache(maxsize=4096)
def render_fields(key: str, fields: tuple[tuple[str, object], ...], language: str = "en") -> str:
    """:func:`render` of the package's catalogue, for fields given as pairs; remembered, since a
    login says the same few messages again and again."""
    return render(key, language, **dict(fields))


def render(key: str, language: str = "en", messages: KeyedMessages | None = None, **fields: object) -> str:
    """Message ``key`` in ``language``, its ``{fields}`` filled."""
    text = (messages or keyed_messages()).text(key, language)
    return text.format(**fields) if fields else text


__all__ = ["KeyedMessages", "Said", "say", "as_written", "render", "render_fields", "keyed_messages",
           "read_keyed_messages", "SILENT", "NOTHING", "AS_WRITTEN"]
