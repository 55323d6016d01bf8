"""The files a scenario names: read only if they are regular files of bounded size inside its folder.

A scenario file, the back-office file it names and the image a scan step names are all read
through here: opened without blocking and checked on the open file, so a named pipe, a device or
a folder is refused before a byte is read; at most the limit is ever read; and a name outside the
scenario's folder (after every symbolic link) is refused with the same answer whether or not the
file exists.
"""

from __future__ import annotations

import io
import os
import pathlib
import stat
import warnings

import yaml
from PIL import Image

from ..apps.scan import check_screen_size
from ..core.errors import ScanError
from ..core.files import file_kind
from .reader import SURROGATE, Reader, ScenarioError, name_shown

#: The largest scenario or back-office file read (a 200,000-step scenario takes about 5 MiB).
MAX_FILE_BYTES = 16 * 1024 * 1024
#: The largest image file a scan step reads (a screenshot of an 8K screen as PNG is well below).
MAX_IMAGE_BYTES = 32 * 1024 * 1024


class FileRefused(Exception):
    """A file that is not a regular file, or too large: ``problem`` says which."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def read_regular_file(path: str | os.PathLike, limit: int) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes.

    Opened without blocking, so a named pipe cannot hang the reader, and checked with ``fstat`` on
    the open file (not the name), so what is read is what was checked: a device such as
    ``/dev/zero``, a pipe or a folder is refused before a byte is read, and no more than ``limit``
    bytes are ever read. Raises :class:`OSError` (and :class:`ValueError` for a name no file can
    have) as ``open`` does, and :class:`FileRefused` for the rest.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    handle = os.open(path, flags)
    try:
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode):
            raise FileRefused(f"is {file_kind(info.st_mode)}, not a file")
        if info.st_size > limit:
            raise FileRefused(f"is larger than {limit // (1024 * 1024)} MiB")
        with os.fdopen(handle, "rb", closefd=False) as stream:
            data = stream.read(limit + 1)
        if len(data) > limit:
            raise FileRefused(f"is larger than {limit // (1024 * 1024)} MiB")
        return data
    finally:
        os.close(handle)


def printable(text: str) -> str:
    """A file name as messages and the timeline show it: a name that is not valid UTF-8 (Python
    holds its bytes as lone surrogates) is written with backslash escapes, so it prints anywhere."""
    return text.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace") \
        if SURROGATE.search(text) else text


def read_text(path: pathlib.Path, shown_as: str) -> str:
    """The UTF-8 text of a scenario or back-office file, or a :class:`ScenarioError` naming it as ``shown_as``."""
    try:
        data = read_regular_file(path, MAX_FILE_BYTES)
    except FileRefused as refused:
        raise ScenarioError(shown_as, 1, f"cannot read the file: it {refused.problem}") from None
    except OSError as error:
        raise ScenarioError(shown_as, 1, f"cannot read the file: {error.strerror or error}") from None
    except ValueError:  # a name the system cannot take: a NUL character, or text that is not valid Unicode
        raise ScenarioError(printable(shown_as), 1,
                            "cannot read the file: the name holds a character no file name can hold") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise ScenarioError(shown_as, line, "the file is not UTF-8 text") from None


def open_screen_image(path: pathlib.Path) -> Image.Image:
    """An image file a scan step names, decoded; its size is checked against a screen's before any
    pixel is decoded. Raises :class:`FileRefused` (with the problem) for anything else."""
    try:
        data = read_regular_file(path, MAX_IMAGE_BYTES)
    except (OSError, ValueError):
        raise FileRefused("cannot be read") from None
    try:
        with warnings.catch_warnings():  # Pillow warns from 89 megapixels; the screen's bound is lower
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
        check_screen_size(image.width, image.height)
        image.load()  # a full decode: verify() passes damaged image data whose checksums fit
    except ScanError as error:
        raise FileRefused(str(error)) from None
    except Image.DecompressionBombError:  # Pillow's own bound (178 megapixels) refused it first
        raise FileRefused("is larger than a screen shows (Pillow calls it a decompression bomb)") from None
    except Exception:  # noqa: BLE001 - any decoder failure means "not an image"
        raise FileRefused("is not an image file PIL can read") from None
    return image


def confined(scenario_path: str, ref: str) -> pathlib.Path | None:
    """The file ``ref`` names relative to the scenario's folder, if it lies inside that folder (or
    a folder below it) once every symbolic link is followed; None if it does not. Whether the file
    exists plays no part, so the answer for a name outside tells nothing about the machine."""
    if pathlib.PurePath(ref).is_absolute():
        return None
    folder = pathlib.Path(scenario_path).parent
    try:
        base = folder.resolve()
        target = (folder / ref).resolve()
        return target if target != base and target.is_relative_to(base) else None
    except (OSError, ValueError, RuntimeError):  # a link loop, a NUL character
        return None


def inside(reader: Reader, node: yaml.Node, ref: str, what: str) -> pathlib.Path:
    """The file ``ref`` names (see :func:`confined`), or the reader's error at ``node`` if it lies outside."""
    target = confined(reader.path, ref)
    if target is None:
        raise reader.fail(node, f"{what} must name a file in the scenario's folder or a folder below it, "
                                f"not {name_shown(ref)}")
    return target

