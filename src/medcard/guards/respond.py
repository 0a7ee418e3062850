"""How a guard answers a refusal from inside the ASGI stack: problem+json for the API, a
bilingual page otherwise (the same shapes as ``app.py`` renders for domain errors)."""

from __future__ import annotations

import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from medcard.errors import MedCardError

log = structlog.get_logger(__name__)
PROBLEM_JSON = "application/problem+json"


def _empty_receive() -> Receive:
    async def receive() -> dict[str, object]:
        return {"type": "http.disconnect"}

    return receive


def refusal(scope: Scope, error: MedCardError) -> Response:
    """The response for ``error`` on this request (never reads the request body)."""
    from medcard.web.render import error_view, language, page

    request = Request(scope, _empty_receive())
    path = request.url.path
    log.info("request_refused", code=error.code, status=error.status, path=path)
    if path.startswith("/api/"):
        return JSONResponse(error.problem(path), status_code=error.status, media_type=PROBLEM_JSON)
    return page(request, "error.html", {"error": error_view(error, language(request))}, status_code=error.status)


async def refuse(scope: Scope, receive: Receive, send: Send, error: MedCardError) -> None:
    """Send the refusal; the application never sees the request."""
    await refusal(scope, error)(scope, receive, send)
