"""Row ids: random (version 4) UUIDs, as :func:`uuid.uuid4` makes them, drawn from one
``os.urandom`` call per 256 ids instead of one per id. A payment batch makes about ten ids a
payment, and building a UUID from an int is cheaper than ``uuid4``'s bytes path (ADR 0012,
eighth round). A forked child starts with an empty buffer: parent and child never share an id."""

from __future__ import annotations

import os
import uuid

_PER_DRAW = 256
_VERSION_4 = (4 << 76) | (0b10 << 62)
"""The version (4) and variant (RFC 4122) bits, over the random bits they replace."""
_KEEP = ~((0xF << 76) | (0b11 << 62)) & ((1 << 128) - 1)
_buffer: list[uuid.UUID] = []


def new_id() -> uuid.UUID:
    """A new random id (RFC 4122 version 4, 122 random bits from the operating system)."""
    try:
        return _buffer.pop()
    except IndexError:
        _refill()
        return _buffer.pop()


def _refill() -> None:
    drawn = os.urandom(16 * _PER_DRAW)
    from_bytes, keep, version, make = int.from_bytes, _KEEP, _VERSION_4, uuid.UUID
    _buffer.extend(make(int=from_bytes(drawn[i : i + 16]) & keep | version) for i in range(0, len(drawn), 16))


os.register_at_fork(after_in_child=_buffer.clear)
