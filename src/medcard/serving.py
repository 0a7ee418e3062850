"""Serving the app: one process, or several workers on one listening socket (``medcard serve``).

Why not plain ``uvicorn --workers N``: with more than one worker, uvicorn binds the listening
socket itself as ``socket.socket(AF_INET)``, whose protocol number is 0. The workers accept on
it, and asyncio enables ``TCP_NODELAY`` only on sockets whose protocol is ``IPPROTO_TCP`` — so on
the default asyncio loop every response waits for Nagle's algorithm against the client's delayed
ACK: a fixed ~40 ms per response (measured: hello-world falls from ~1,800 to ~170 req/s, p50
46 ms). Here the socket is created with ``IPPROTO_TCP``, so every accepted connection gets
``TCP_NODELAY``, whatever the loop; uvloop (``uvicorn[standard]``) sets it anyway and is used
when installed (``--loop auto``), with httptools for parsing.

Shutdown is graceful: on SIGTERM / SIGINT each worker stops accepting, lets requests in flight
finish (up to ``graceful_seconds``), then runs the app's shutdown (the audit sealer seals what
is left, the pool closes).
"""

from __future__ import annotations

import socket
from typing import Any

APP = "medcard.app:create_app"


def listening_socket(host: str, port: int) -> socket.socket:
    """A bound TCP socket the workers share, created with ``IPPROTO_TCP`` (see the module docstring)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def serve(
    *,
    host: str,
    port: int,
    workers: int = 1,
    reload: bool = False,
    loop: str = "auto",
    http: str = "auto",
    graceful_seconds: int = 30,
    access_log: bool = True,
    app: str = APP,
) -> None:
    """Run ``app`` (an app factory) in one process or ``workers`` processes; blocks until stopped."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    options: dict[str, Any] = {
        "factory": True,
        "host": host,
        "port": port,
        "loop": loop,
        "http": http,
        "log_level": "info",
        "access_log": access_log,
        "timeout_graceful_shutdown": graceful_seconds,
    }
    if reload or workers <= 1:
        uvicorn.run(app, reload=reload, **options)
        return
    config = uvicorn.Config(app, workers=workers, **options)
    Multiprocess(config, sockets=[listening_socket(host, port)]).run()
