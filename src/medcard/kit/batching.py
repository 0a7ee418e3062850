"""Group commit for hot routes (docs/adr/0005, 0012): concurrent requests of one kind queue in a
:class:`Lane`; whenever a transaction finishes, the next takes every request waiting (up to
``max_batch``) and runs them together, so a batch costs the fixed set of statements one request
costs alone. An idle lane adds no wait: a lone request starts at once, as a batch of one.
Further transactions run beside the first (up to ``max_in_flight``) once ``overlap_from``
requests are waiting, or once more are waiting than any running transaction took: either way the
new batch is no smaller than those in flight, so overlapping database round trips never shrinks
batches to a size where their fixed cost dominates — and below saturation, where batches stay
small, requests stop queueing behind a batch smaller than their own (ADR 0012, eleventh round).

A batch may answer :data:`ALONE` for an item it does not take: the item is then done by
``alone`` in a task of its own once the batch's other answers are given. A batch that fails as
a whole (a database error, a bug) is retried one request at a time (``alone``), so one bad
request never fails its neighbours. A request whose caller goes away
stays in its batch: its outcome is found the way any client finds it after a lost answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class Alone:
    """A batch's answer for an item it leaves to ``alone`` (run once the batch has committed)."""


ALONE = Alone()


class Lane(Generic[Item, Result]):
    """Requests of one kind waiting for a transaction, and the transactions running them.

    ``run`` does a batch and returns one result (or the exception to raise) per item, in order. ``alone`` does
    one item after its batch failed as a whole (default: ``run`` with that item only)."""

    def __init__(
        self,
        run: Callable[[Sequence[Item]], Awaitable[Sequence[Result | Exception | Alone]]],
        *,
        alone: Callable[[Item], Awaitable[Result | Exception]] | None = None,
        max_batch: int = 200,
        max_in_flight: int = 8,
        overlap_from: int = 8,
    ) -> None:
        self.run = run
        self.alone = alone
        self.max_batch = max_batch
        self.max_in_flight = max_in_flight
        self.overlap_from = overlap_from
        self.waiting: list[tuple[Item, asyncio.Future[Result | Exception]]] = []
        self.running = 0
        self._sizes: list[int] = []
        """The size of each batch in flight."""
        self._tasks: set[asyncio.Task[None]] = set()

    async def submit(self, item: Item) -> Result:
        """Queue ``item`` and wait for its result; raises its refusal."""
        future: asyncio.Future[Result | Exception] = asyncio.get_running_loop().create_future()
        self.waiting.append((item, future))
        # The first transaction starts at once; another one starts beside it only for a batch
        # worth its fixed cost (see :meth:`_worth_another`), else the waiting requests ride on
        # the next batch of a running one: small overlapping batches would spend the CPU that
        # grouping saves.
        if self.running == 0 or (not self._starting() and self.running < self.max_in_flight and self._worth_another()):
            self.running += 1
            task = asyncio.create_task(self._drain())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        result = await future
        if isinstance(result, Exception):
            raise result
        return result

    async def _drain(self) -> None:
        try:
            while self.waiting:
                taken, self.waiting = self.waiting[: self.max_batch], self.waiting[self.max_batch :]
                self._sizes.append(len(taken))
                try:
                    await self._settle(taken)
                finally:
                    self._sizes.remove(len(taken))
                # Just after a batch answers, its clients' next requests have not arrived yet:
                # the one or two waiting would make a batch that costs a full set of statements.
                # While another transaction runs, they ride on its next batch (or an overlap).
                # The last one running always goes on, so no request is ever left behind.
                if self.running > 1 and not self._worth_another():
                    break
        finally:
            self.running -= 1

    def _starting(self) -> bool:
        """A transaction has started and not taken its batch yet (it will take every request
        waiting). Between two awaits each running one is either that or settling a batch."""
        return self.running > len(self._sizes)

    def _worth_another(self) -> bool:
        """Whether the requests waiting are worth a transaction beside those running: at least
        ``overlap_from`` of them, or more than any batch in flight took (a small batch running,
        more waiting behind it than it holds: below saturation)."""
        waiting = len(self.waiting)
        return waiting >= self.overlap_from or waiting > max(self._sizes, default=0)

    async def _settle(self, taken: list[tuple[Item, asyncio.Future[Result | Exception]]]) -> None:
        try:
            results = await self.run([item for item, _ in taken])
        except Exception as error:  # noqa: BLE001 - handed to the waiting requests, or retried alone
            if len(taken) > 1:
                for item, future in taken:
                    await self._one(item, future)
                return
            _, future = taken[0]
            if not future.done():
                future.set_exception(error)
            return
        for (item, future), result in zip(taken, results, strict=True):
            if isinstance(result, Alone):
                task = asyncio.create_task(self._one(item, future))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            elif not future.done():
                future.set_result(result)

    async def _one(self, item: Item, future: asyncio.Future[Result | Exception]) -> None:
        try:
            result = await self.alone(item) if self.alone is not None else (await self.run([item]))[0]
            if isinstance(result, Alone):
                raise TypeError("a batch of one must answer its item")
        except Exception as error:  # noqa: BLE001 - the request's own failure
            if not future.done():
                future.set_exception(error)
            return
        if not future.done():
            future.set_result(result)
