"""``medcard serve --workers N``: the shared listening socket gives every connection
TCP_NODELAY on the asyncio loop (plain ``uvicorn --workers`` does not, and each response then
waits ~40 ms for the client's delayed ACK; bench/serving.py measures it). Checked on the socket
option itself, never by timing."""

from __future__ import annotations

import asyncio
import gc
import socket

from medcard.adapters import sandbox_adapters
from medcard.app import YOUNG_COLLECTION_EVERY, create_app
from medcard.config import Settings
from medcard.serving import listening_socket


async def _nodelay_of_accepted(listener: socket.socket) -> int:
    accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def handle(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.set_result(writer.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        writer.close()

    listener.listen()
    server = await asyncio.start_server(handle, sock=listener)
    _reader, writer = await asyncio.open_connection(*listener.getsockname()[:2])
    try:
        return await asyncio.wait_for(accepted, timeout=10)
    finally:
        writer.close()
        server.close()
        await server.wait_closed()


async def test_workers_socket_gives_each_connection_tcp_nodelay() -> None:
    assert await _nodelay_of_accepted(listening_socket("127.0.0.1", 0)) != 0


async def test_the_socket_plain_uvicorn_binds_for_workers_does_not() -> None:
    """What the test above guards against: uvicorn's own ``socket.socket(AF_INET)`` (protocol 0)."""
    plain = socket.socket(socket.AF_INET)
    plain.bind(("127.0.0.1", 0))
    assert await _nodelay_of_accepted(plain) == 0


async def test_the_app_collects_young_objects_less_often_while_it_serves(settings: Settings) -> None:
    """Docs/adr/0012 (sixth round): while the app runs, a young collection every 10,000 new
    objects instead of Python's 700; the process's setting is restored when the app stops."""
    before = gc.get_threshold()
    app = create_app(settings, sandbox_adapters(settings))
    async with app.router.lifespan_context(app):
        assert gc.get_threshold() == (YOUNG_COLLECTION_EVERY, *before[1:])
    assert gc.get_threshold() == before
    assert before[0] < YOUNG_COLLECTION_EVERY


def test_the_payment_gateways_overlap_and_transactions_in_flight_come_from_the_settings(settings: Settings) -> None:
    """``MEDCARD_PAYMENT_GATEWAY_IN_FLIGHT`` and ``…_OVERLAP_FROM`` reach the payment lane."""
    tuned = settings.model_copy(update={"payment_gateway_in_flight": 3, "payment_gateway_overlap_from": 5})
    lane = create_app(tuned, sandbox_adapters(tuned)).state.payment_gateway._lane
    assert (lane.max_in_flight, lane.overlap_from) == (3, 5)
