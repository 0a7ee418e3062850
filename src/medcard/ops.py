"""Operations endpoints: liveness (``/healthz``), readiness (``/readyz``) and ``/metrics``.

Liveness stays cheap (no database): a process that answers is alive. ``/metrics`` is for the
monitoring system only: it answers with ``Authorization: Bearer <MEDCARD_METRICS_TOKEN>`` and is
404 without a configured token (or with a wrong one), so it reveals nothing to the public.
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from medcard import __version__
from medcard.deps import SettingsDep
from medcard.errors import NotFound

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness: the process answers (the database is checked by ``/readyz``)."""
    return {"status": "ok", "version": __version__}


@router.get("/metrics")
async def metrics(request: Request, settings: SettingsDep) -> Response:
    """Prometheus metrics, behind the bearer token."""
    given = request.headers.get("authorization", "")
    expected = f"Bearer {settings.metrics_token}"
    if not settings.metrics_token or not hmac.compare_digest(given.encode(), expected.encode()):
        raise NotFound()
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
