"""Request-body limits enforced before the body is read (pure ASGI middleware).

A declared ``Content-Length`` over the route's limit is refused at once, without reading a
byte; a chunked (or lying) body is counted as it streams and cut off at the limit. Either way
the answer is 413 ``BODY_TOO_LARGE`` and the route handler never runs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from medcard.config import Settings

from .errors import BodyTooLarge
from .respond import refusal

KIB = 1024
DEFAULT_LIMIT = 64 * KIB
"""JSON and form posts: every non-upload body of the app is a few KiB."""
MARGIN = 64 * KIB
"""Room for the multipart framing and the other fields of an upload form."""


@dataclass(frozen=True)
class RouteLimit:
    pattern: re.Pattern[str]
    max_bytes: int


def route_limits(settings: Settings) -> list[RouteLimit]:
    """The routes allowed more than ``DEFAULT_LIMIT``: photo uploads (the upload limit plus
    framing), the special-disease materials and a family binding (up to four photos each), the
    e-voucher binding (its JSON carries a base64 face image of at most 2,000,000 characters) and
    policy documents."""
    photo = settings.max_upload_bytes + MARGIN
    table = {
        r"/api/v1/identity/sessions/[^/]+/face": photo,
        r"/api/v1/identity/wards": photo,
        r"/api/v1/cards/drafts/ocr": photo,
        r"/verify/[^/]+/face": photo,
        r"/wards": photo,
        r"/cards/apply/photo": photo,
        r"/insurance/bind": photo,
        r"/api/v1/insurance/special-diseases": 6 * settings.max_upload_bytes + MARGIN,  # MAX_MATERIALS files
        r"/insurance/special-diseases": 6 * settings.max_upload_bytes + MARGIN,
        r"/api/v1/insurance/bindings": 2_000_000 + MARGIN,
        r"/api/v1/family/members": 4 * settings.max_upload_bytes + MARGIN,
        r"/family": 4 * settings.max_upload_bytes + MARGIN,
        r"/api/v1/staff/policy/[^/]+/[^/]+/versions": 512 * KIB,
        r"/console/policy/[^/]+/[^/]+": 512 * KIB,
    }
    return [RouteLimit(re.compile(pattern), limit) for pattern, limit in table.items()]


class _TooLarge(Exception):
    """Raised into the application when the streamed body passes the limit (after the 413 went out)."""


class BodyLimit:
    """Caps every request body per route; see the module docstring."""

    def __init__(self, app: ASGIApp, *, limits: Sequence[RouteLimit], default: int = DEFAULT_LIMIT) -> None:
        self.app = app
        self.limits = list(limits)
        self.default = default
        # One alternation of every route's pattern, matched once per request (the first route that
        # matches wins, as in a loop over them); its named group says which.
        self._any = re.compile("|".join(f"(?P<r{i}>{route.pattern.pattern})" for i, route in enumerate(self.limits)))

    def limit_for(self, path: str) -> int:
        found = self._any.fullmatch(path) if self.limits else None
        if found is None or found.lastgroup is None:
            return self.default
        return self.limits[int(found.lastgroup[1:])].max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await refusal(scope, BodyTooLarge(limit_kib=limit // KIB))(scope, receive, send)
            return

        received = 0
        started = False
        refused = False

        async def counting_receive() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    if not started:
                        refused = True
                        await refusal(scope, BodyTooLarge(limit_kib=limit // KIB))(scope, receive, send)
                    raise _TooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 is already out; drop whatever the application answers
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if not refused:
                raise
