"""The group-commit lane (docs/adr/0005, 0012): batch sizes are counted, never timed."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from medcard.kit.batching import Lane


class Gated:
    """A batch runner that records each batch and holds it until the test opens its gate."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.gates: list[asyncio.Event] = []

    async def run(self, items: Sequence[str]) -> list[str]:
        self.batches.append(list(items))
        gate = asyncio.Event()
        self.gates.append(gate)
        await gate.wait()
        return [item.upper() for item in items]


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_finishing_batch_leaves_a_few_waiting_requests_to_the_running_one() -> None:
    """Two transactions in flight; the first answers while one request waits: that request is
    not run as a batch of one (a full set of statements for one payment) but joins the requests
    arriving after it, in a batch worth its cost."""
    runner = Gated()
    lane: Lane[str, str] = Lane(runner.run, max_in_flight=2, overlap_from=3)
    submitted = [asyncio.create_task(lane.submit("a"))]
    await settle()
    submitted += [asyncio.create_task(lane.submit(item)) for item in "bcd"]
    await settle()
    assert runner.batches == [["a"], ["b", "c", "d"]]
    submitted.append(asyncio.create_task(lane.submit("e")))
    await settle()
    runner.gates[0].set()  # the first batch answers while "e" waits alone
    await settle()
    assert runner.batches == [["a"], ["b", "c", "d"]] and lane.running == 1
    submitted += [asyncio.create_task(lane.submit(item)) for item in "fg"]
    await settle()
    assert runner.batches == [["a"], ["b", "c", "d"], ["e", "f", "g"]]
    for gate in runner.gates:
        gate.set()
    assert await asyncio.gather(*submitted) == list("ABCDEFG")
    assert lane.running == 0


async def test_the_last_running_transaction_takes_whatever_waits() -> None:
    runner = Gated()
    lane: Lane[str, str] = Lane(runner.run, max_in_flight=2, overlap_from=3)
    first = asyncio.create_task(lane.submit("a"))
    await settle()
    second = asyncio.create_task(lane.submit("b"))
    await settle()
    assert runner.batches == [["a"]]  # one waiting: no second transaction for it
    runner.gates[0].set()
    await settle()
    assert runner.batches == [["a"], ["b"]]
    runner.gates[1].set()
    assert (await first, await second) == ("A", "B")
    assert lane.running == 0
