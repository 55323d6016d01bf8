"""Files in words: what a path that is not a regular file is, for the clear errors of every reader
and writer of the project's files (scenario files, images, session files)."""

from __future__ import annotations

import stat


def file_kind(mode: int) -> str:
    """What a file of this ``st_mode`` is, in words, when it is not a regular file."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


__all__ = ["file_kind"]
