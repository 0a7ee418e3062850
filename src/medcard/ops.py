"""Operations: liveness (``/healthz``), readiness (``/readyz``), ``/metrics``, and the answers
given when the database is down or a body cannot be parsed.

Liveness stays cheap (no database): a process that answers is alive. Readiness checks the
database, so a load balancer stops sending traffic while it is down. ``/metrics`` is for the
monitoring system only: it answers with ``Authorization: Bearer <MEDCARD_METRICS_TOKEN>`` and is
404 without a configured token (or with a wrong one), so it reveals nothing to the public.

A request that meets an unreachable database (connection refused or dropped, server starting
or shutting down, pool timeout) answers 503 problem+json with ``Retry-After`` — never a bare
500 — and logs one warning line without a traceback.
"""

from __future__ import annotations

import asyncio
import hmac
from typing import Any

import structlog
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import exc, text
from starlette.exceptions import HTTPException

from medcard import __version__
from medcard.db import UNAVAILABLE, database_unavailable, root_cause
from medcard.deps import SettingsDep
from medcard.errors import (
    DatabaseUnavailable,
    InternalError,
    MalformedBody,
    MedCardError,
    NotFound,
    PageNotFound,
    PageRefused,
    retry_after_header,
)

log = structlog.get_logger(__name__)
router = APIRouter(include_in_schema=False)
RETRY_AFTER_SECONDS = 5
READINESS_TIMEOUT_SECONDS = 2.0
PROBLEM_JSON = "application/problem+json"
NOT_READY: tuple[type[Exception], ...] = (TimeoutError, *UNAVAILABLE)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness: the process answers (the database is checked by ``/readyz``)."""
    return {"status": "ok", "version": __version__}


@router.get("/readyz")
async def readyz(request: Request) -> Response:
    """Readiness: the database answers ``SELECT 1`` within two seconds (an autocommit probe, so
    it waits for no lock). Always JSON: 200, or 503 problem+json with ``Retry-After``."""
    try:
        async with asyncio.timeout(READINESS_TIMEOUT_SECONDS), request.app.state.engine.connect() as connection:
            probe = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await probe.execute(text("SELECT 1"))
    except NOT_READY as error:
        log.warning("not_ready", cause=root_cause(error))
        problem = DatabaseUnavailable(retry_after=RETRY_AFTER_SECONDS)
        return JSONResponse(
            problem.problem(request.url.path),
            status_code=problem.status,
            media_type=PROBLEM_JSON,
            headers=retry_after_header(problem),
        )
    return JSONResponse({"status": "ready", "version": __version__})


@router.get("/metrics")
async def metrics(request: Request, settings: SettingsDep) -> Response:
    """Prometheus metrics, behind the bearer token."""
    given = request.headers.get("authorization", "")
    expected = f"Bearer {settings.metrics_token}"
    if not settings.metrics_token or not hmac.compare_digest(given.encode(), expected.encode()):
        raise NotFound()
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def install_error_handlers(app: FastAPI) -> None:
    """Database outages → 503 + Retry-After; unparsable bodies and other HTTP errors of the API
    → problem+json. Both go through the app's one ``MedCardError`` renderer."""

    async def render(request: Request, error: MedCardError) -> Response:
        handler: Any = app.exception_handlers[MedCardError]
        response: Response = await handler(request, error)
        return response

    async def database_down(request: Request, error: Exception) -> Response:
        log.warning("database_unavailable", cause=root_cause(error), path=request.url.path)
        return await render(request, DatabaseUnavailable(retry_after=RETRY_AFTER_SECONDS))

    async def database_error(request: Request, error: Exception) -> Response:
        # SQLAlchemy wraps some driver errors generically (asyncpg's "the database system is
        # shutting down" arrives as a bare DBAPIError): look at the cause to decide.
        if database_unavailable(error):
            return await database_down(request, error)
        log.error("database_error", cause=root_cause(error), path=request.url.path, exc_info=error)
        return await render(request, InternalError())

    for kind in (*UNAVAILABLE, exc.DBAPIError):
        app.add_exception_handler(kind, database_error)

    async def http_error(request: Request, error: Exception) -> Response:
        problem = error if isinstance(error, HTTPException) else HTTPException(500)
        if not request.url.path.startswith("/api/"):
            # Pages answer in the product's words, never ``{"detail":"Not Found"}`` (R-A11Y-02).
            page_error = PageNotFound() if problem.status_code == 404 else PageRefused(problem.status_code)
            return await render(request, page_error)
        if problem.status_code == 400:
            return await render(request, MalformedBody())
        title = str(problem.detail)
        body = {
            "type": "about:blank",
            "title": title,
            "title_zh": title,
            "status": problem.status_code,
            "code": f"HTTP_{problem.status_code}",
            "detail": title,
            "hint": "",
            "hint_zh": "",
            "instance": request.url.path,
        }
        return JSONResponse(body, status_code=problem.status_code, media_type=PROBLEM_JSON, headers=problem.headers)

    app.add_exception_handler(HTTPException, http_error)

    async def unexpected(request: Request, error: Exception) -> Response:
        # Last resort (the server-error middleware still logs the traceback once): a database
        # outage wrapped in another exception is still a 503; anything else a 500 problem.
        if database_unavailable(error):
            return await database_down(request, error)
        return await render(request, InternalError())

    app.add_exception_handler(Exception, unexpected)
