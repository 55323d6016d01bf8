"""Frozen values: dataclasses made of values that cannot change, so a copy may share them.

The story search copies whole runs (``copy.deepcopy``) to try each next step on its own copy; a
frozen value of text, numbers and bytes (a password hash, an enrolment screen, a QR record, an
app's entry, a device's spec) would be rebuilt field by field for nothing.
"""

from __future__ import annotations


class FrozenValue:
    """A frozen dataclass's base: its own deep copy."""

    __slots__ = ()

    def __deepcopy__(self, memo: dict):
        return self
