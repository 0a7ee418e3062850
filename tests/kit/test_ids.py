"""``kit.ids.new_id``: version-4 UUIDs as ``uuid.uuid4`` makes them, from a shared draw."""

from __future__ import annotations

import os
import uuid

from medcard.kit import ids
from medcard.kit.ids import new_id


def test_ids_are_random_version_4_uuids_and_never_repeat() -> None:
    made = [new_id() for _ in range(3 * ids._PER_DRAW + 7)]  # several draws
    assert all(isinstance(i, uuid.UUID) and i.version == 4 and i.variant == uuid.RFC_4122 for i in made)
    assert len(set(made)) == len(made)
    # 122 random bits: every one of them varies across the ids (none is stuck at 0 or 1).
    fixed = (0xF << 76) | (0b11 << 62)
    ones = zero = 0
    for i in made:
        ones |= i.int
        zero |= ~i.int
    assert (ones & zero & ~fixed) == ((1 << 128) - 1) & ~fixed


def test_a_forked_child_does_not_reuse_the_parents_buffer() -> None:
    new_id()  # the buffer holds ids now
    left = list(ids._buffer)
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next id is not one the parent still holds
        os.close(reader)
        os.write(writer, new_id().bytes)
        os._exit(0)
    os.close(writer)
    child = uuid.UUID(bytes=os.read(reader, 16))
    os.waitpid(pid, 0)
    os.close(reader)
    assert child not in left
    assert ids._buffer == left
