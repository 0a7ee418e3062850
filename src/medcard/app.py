"""The application factory: settings, database, adapters, routers and error rendering."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.routing import Route

from medcard import __version__
from medcard.adapters import Adapters, sandbox_adapters
from medcard.audit import sealer
from medcard.codes.gateway import CodeGateway
from medcard.config import Settings, get_settings
from medcard.db import make_engine, make_sessionmaker, unit_of_work
from medcard.deps import PATIENT_COOKIE
from medcard.errors import MedCardError, NotAuthenticated, retry_after_header
from medcard.guards import install as install_guards
from medcard.idempotency.errors import IdempotentReplay
from medcard.jobs import worker as jobs
from medcard.observability import configure_logging
from medcard.ops import install_error_handlers as install_ops_error_handlers
from medcard.settlement.gateway import PaymentGateway
from medcard.web.feedback import validation_view
from medcard.web.render import error_view, language, page

log = structlog.get_logger(__name__)
PROBLEM_JSON = "application/problem+json"
YOUNG_COLLECTION_EVERY = 10_000
"""New container objects between two collections of the youngest generation (Python's default: 700)."""

TAGS = [
    {"name": "auth", "description": "Patient login through the messaging app's OAuth; staff login with a role."},
    {"name": "identity", "description": "Real-name verification (实名认证): face, bank card, SMS, insurance record."},
    {
        "name": "card",
        "description": "Electronic health card (电子健康卡): apply, autosave, QR, existing-record binding.",
    },
    {"name": "kiosk", "description": "Self-service kiosk (自助机): scan the e-card QR, issue a physical card."},
    {"name": "devices", "description": "Bound devices, abnormal-login step-up, WebAuthn (fingerprint / face ID)."},
    {"name": "staff", "description": "Staff console: audit log, immutable-field changes with a reason."},
]


def create_app(settings: Settings | None = None, adapters: Adapters | None = None) -> FastAPI:
    """Build the app. Tests pass their own settings and adapters."""
    settings = settings or get_settings()
    configure_logging(settings)
    engine = make_engine(settings)
    sessions = make_sessionmaker(engine)
    gateway_engine = _gateway_engine(settings, engine)
    gateway_sessions = make_sessionmaker(gateway_engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        worker = jobs.running(
            sessions, settings=settings, adapters=app.state.adapters, interval=settings.job_worker_interval_seconds
        )
        async with sealer.running(sessions, interval=settings.audit_seal_interval_seconds), worker:
            # Everything built so far (modules, routes, models, templates) lives as long as the
            # process: kept out of the collector, a full collection no longer walks it on the
            # request path (docs/adr/0005).
            gc.freeze()
            # A young collection every 700 new objects walked the requests in flight over and
            # over (~8% of a payment's CPU): every 10,000 instead (docs/adr/0012, sixth round).
            previous = gc.get_threshold()
            gc.set_threshold(YOUNG_COLLECTION_EVERY, *previous[1:])
            try:
                yield
            finally:
                gc.set_threshold(*previous)
        await engine.dispose()
        if gateway_engine is not engine:
            await gateway_engine.dispose()

    app = FastAPI(
        title="MedCard",
        version=__version__,
        summary="Electronic health card, medical-insurance e-voucher and payment platform.",
        description=(
            "zh-CN first, English second. Every error is RFC 9457 problem+json with a stable `code`, "
            "`title`/`title_zh`, and `hint`/`hint_zh`."
        ),
        openapi_tags=TAGS,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = sessions
    app.state.adapters = adapters or sandbox_adapters(settings)
    app.state.code_gateway = CodeGateway(
        lambda: unit_of_work(gateway_sessions), settings, max_in_flight=settings.code_gateway_in_flight
    )
    app.state.payment_gateway = PaymentGateway(
        lambda: unit_of_work(gateway_sessions),
        lambda: unit_of_work(sessions),
        settings,
        app.state.adapters,
        max_in_flight=settings.payment_gateway_in_flight,
        overlap_from=settings.payment_gateway_overlap_from,
    )

    install_guards(app, settings)
    _install_error_handlers(app)
    install_ops_error_handlers(app)
    _include_routers(app)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "web" / "static"), name="static")

    return app


def _gateway_engine(settings: Settings, engine: AsyncEngine) -> AsyncEngine:
    """The gateways' own small pool on PostgreSQL: one connection per transaction they may run
    at once (code issue and redeem, payments). No pre-ping round trip: a batch that fails on a dead
    connection is retried one request at a time, by then on fresh connections. SQLite shares the
    app's engine.

    Its statements carry IN lists as long as the batch, and each length is a prepared statement
    of its own: the driver's cache of them (100 by default) is raised so that every batch size
    stays prepared instead of being parsed and planned again, a round trip each time."""
    if settings.is_sqlite:
        return engine
    size = 2 * settings.code_gateway_in_flight + settings.payment_gateway_in_flight
    return make_engine(
        settings,
        pool_size=size,
        max_overflow=0,
        pool_pre_ping=False,
        pool_use_lifo=True,  # the same few connections again: their prepared statements are warm
        connect_args={"prepared_statement_cache_size": 2048},
    )


def _include_routers(app: FastAPI) -> None:
    from medcard.account.endpoints import router as account_router
    from medcard.audit.endpoints import router as audit_router
    from medcard.auth.endpoints import router as auth_router
    from medcard.card.endpoints import router as card_router
    from medcard.codes.endpoints import router as codes_router
    from medcard.devices.endpoints import router as devices_router
    from medcard.family.endpoints import router as family_router
    from medcard.family.endpoints import staff_router as family_staff_router
    from medcard.hospital.endpoints import router as hospital_router
    from medcard.identity.endpoints import router as identity_router
    from medcard.insurance.endpoints import router as insurance_router
    from medcard.insurance.endpoints import staff_router as insurance_staff_router
    from medcard.kiosk.endpoints import router as kiosk_router
    from medcard.ops import router as ops_router
    from medcard.policy.endpoints import router as policy_router
    from medcard.policy.endpoints import staff_router as policy_staff_router
    from medcard.security.endpoints import router as security_router
    from medcard.settlement.endpoints import pay_route
    from medcard.settlement.endpoints import router as settlement_router
    from medcard.web.account_pages import router as account_pages_router
    from medcard.web.card_pages import router as card_pages_router
    from medcard.web.codes_pages import router as codes_pages_router
    from medcard.web.family_pages import router as family_pages_router
    from medcard.web.finance_pages import router as finance_pages_router
    from medcard.web.hospital_pages import router as hospital_pages_router
    from medcard.web.identity_pages import router as identity_pages_router
    from medcard.web.insurance_pages import router as insurance_pages_router
    from medcard.web.kiosk_pages import router as kiosk_pages_router
    from medcard.web.pages import router as pages_router
    from medcard.web.policy_pages import router as policy_pages_router
    from medcard.web.sandbox import router as sandbox_router
    from medcard.web.security_pages import router as security_pages_router
    from medcard.web.settlement_pages import router as settlement_pages_router

    # Routes are matched in order, one by one: the hot paths (payment codes, then payments) come
    # first — a payment matched after sixty other routes spent more CPU matching than paying.
    app.include_router(codes_router, prefix="/api/v1")
    app.include_router(settlement_router, prefix="/api/v1")
    for router in (auth_router, identity_router, card_router, audit_router, kiosk_router, hospital_router):
        app.include_router(router, prefix="/api/v1")
    for router in (insurance_router, insurance_staff_router, policy_router, policy_staff_router):
        app.include_router(router, prefix="/api/v1")
    app.include_router(security_router, prefix="/api/v1")
    app.include_router(devices_router, prefix="/api/v1")
    app.include_router(family_router, prefix="/api/v1")
    app.include_router(family_staff_router, prefix="/api/v1")
    app.include_router(account_router, prefix="/api/v1")
    app.include_router(codes_pages_router)
    app.include_router(family_pages_router)
    app.include_router(settlement_pages_router)
    app.include_router(finance_pages_router)
    app.include_router(security_pages_router)
    app.include_router(pages_router)
    app.include_router(account_pages_router)
    app.include_router(identity_pages_router)
    app.include_router(card_pages_router)
    app.include_router(kiosk_pages_router)
    app.include_router(hospital_pages_router)
    app.include_router(insurance_pages_router)
    app.include_router(policy_pages_router)
    app.include_router(sandbox_router)
    app.include_router(ops_router)
    # Ahead of every route: payments as a plain Starlette route, without FastAPI's dependency
    # solving (docs/adr/0012, sixth round); the documented route above answers the same.
    payments = Route("/api/v1/settlement/orders", pay_route, methods=["POST"], include_in_schema=False)
    app.router.routes.insert(0, payments)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(MedCardError)
    async def domain_error(request: Request, error: MedCardError) -> Response:
        log.info("request_refused", code=error.code, status=error.status, path=request.url.path)
        if _is_api(request):
            return JSONResponse(
                error.problem(request.url.path),
                status_code=error.status,
                media_type=PROBLEM_JSON,
                headers=retry_after_header(error),
            )
        if isinstance(error, NotAuthenticated):
            staff_area = request.url.path.startswith(("/console", "/kiosk"))
            target = "/console/login" if staff_area else _login_again(request)
            if request.headers.get("hx-request"):
                return PlainTextResponse("", status_code=200, headers={"HX-Redirect": target})
            return RedirectResponse(target, status_code=303)
        response = page(
            request, "error.html", {"error": error_view(error, language(request))}, status_code=error.status
        )
        response.headers.update(retry_after_header(error))
        return response

    @app.exception_handler(IdempotentReplay)
    async def replay(_request: Request, stored: IdempotentReplay) -> Response:
        """The stored answer of a finished request with the same Idempotency-Key (R-PAY-05)."""
        return JSONResponse(stored.body, status_code=stored.status_code, headers={"Idempotent-Replayed": "true"})

    @app.exception_handler(RequestValidationError)
    async def malformed(request: Request, error: RequestValidationError) -> Response:
        fields = [_field_of(item) for item in error.errors()]
        body: dict[str, Any] = {
            "type": "https://medcard.dev/problems/malformed-request",
            "title": "The request is malformed",
            "title_zh": "请求格式不正确",
            "status": 422,
            "code": "MALFORMED_REQUEST",
            "detail": "; ".join(f"{f['field']}: {f['message']}" for f in fields),
            "hint": "Check the named fields.",
            "hint_zh": "请检查所列字段。",
            "errors": fields,
            "instance": request.url.path,
        }
        if _is_api(request):
            return JSONResponse(body, status_code=422, media_type=PROBLEM_JSON)
        view = validation_view(error.errors(), language(request))
        return page(request, "error.html", {"error": view}, status_code=422)


def _login_again(request: Request) -> str:
    """The patient login, told where to come back to: the page itself, or for a refused form
    post the page that showed the form (same site only). ``expired`` when a session was there."""
    back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET":
        referer = urlsplit(request.headers.get("referer", ""))
        same_site = referer.netloc == request.url.netloc and referer.path.startswith("/")
        back = (referer.path + (f"?{referer.query}" if referer.query else "")) if same_site else "/me"
    query = {"next": back}
    if request.cookies.get(PATIENT_COOKIE):
        query["expired"] = "1"
    return "/login?" + urlencode(query)


def _field_of(item: Any) -> dict[str, str]:
    location = [str(part) for part in item.get("loc", ()) if part not in ("body", "query", "path", "form")]
    return {"field": ".".join(location) or "body", "message": str(item.get("msg", "invalid"))}
