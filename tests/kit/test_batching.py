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


async def arrive(lane: Lane[str, str], items: str, submitted: list[asyncio.Task[str]]) -> None:
    """Requests ``items`` (one letter each) arrive together; the lane reacts before the test goes on."""
    submitted += [asyncio.create_task(lane.submit(item)) for item in items]
    await settle()


async def test_a_finishing_batch_leaves_a_few_waiting_requests_to_the_running_one() -> None:
    """Two transactions in flight; the first answers while one request waits: that request is
    not run as a batch of one (a full set of statements for one payment) but joins the requests
    arriving after it, in a batch worth its cost."""
    runner = Gated()
    lane: Lane[str, str] = Lane(runner.run, max_in_flight=2, overlap_from=3)
    submitted: list[asyncio.Task[str]] = []
    await arrive(lane, "a", submitted)
    await arrive(lane, "bcd", submitted)
    assert runner.batches == [["a"], ["b", "c", "d"]]
    await arrive(lane, "e", submitted)
    runner.gates[0].set()  # the first batch answers while "e" waits alone
    await settle()
    assert runner.batches == [["a"], ["b", "c", "d"]] and lane.running == 1
    await arrive(lane, "fg", submitted)
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


async def test_more_waiting_than_the_running_batch_holds_start_a_batch_beside_it() -> None:
    """Below saturation batches stay small: a lone request's batch runs while the others arrive.
    Once more wait than it holds, they run beside it instead of queueing behind it — a batch no
    smaller than the one in flight — but never more than wait while a bigger batch runs."""
    runner = Gated()
    lane: Lane[str, str] = Lane(runner.run, max_in_flight=3, overlap_from=16)
    submitted: list[asyncio.Task[str]] = []
    await arrive(lane, "a", submitted)
    await arrive(lane, "b", submitted)
    assert runner.batches == [["a"]]  # one waiting, one in flight: it rides on the next batch
    await arrive(lane, "c", submitted)
    assert runner.batches == [["a"], ["b", "c"]] and lane.running == 2
    await arrive(lane, "de", submitted)
    assert runner.batches == [["a"], ["b", "c"]]  # two waiting, a batch of two in flight
    await arrive(lane, "f", submitted)
    assert runner.batches == [["a"], ["b", "c"], ["d", "e", "f"]] and lane.running == 3
    for gate in runner.gates:
        gate.set()
    assert await asyncio.gather(*submitted) == list("ABCDEF")
    assert lane.running == 0


async def test_requests_arriving_together_start_one_transaction_beside_the_running_one() -> None:
    """The transaction started for the waiting requests takes all of them when it runs; those
    arriving before it does join it rather than starting more transactions."""
    runner = Gated()
    lane: Lane[str, str] = Lane(runner.run, max_in_flight=4, overlap_from=16)
    submitted: list[asyncio.Task[str]] = []
    await arrive(lane, "a", submitted)
    await arrive(lane, "bcdef", submitted)
    assert runner.batches == [["a"], ["b", "c", "d", "e", "f"]] and lane.running == 2
    for gate in runner.gates:
        gate.set()
    assert await asyncio.gather(*submitted) == list("ABCDEF")
