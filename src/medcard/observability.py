"""structlog set-up: JSON lines in production, readable lines in development."""

from __future__ import annotations

import logging

import structlog

from medcard.config import Settings


class DropQueryStrings(logging.Filter):
    """Access-log lines keep the path but not the query string, which may carry personal data
    (a search by phone, a fuzzer's garbage that looks like an ID number)."""

    def filter(self, record: logging.LogRecord) -> bool:
        # uvicorn.access logs ``'%s - "%s %s HTTP/%s" %d'`` with the path and query as the third argument.
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (*args[:2], args[2].split("?", 1)[0] + "?…", *args[3:])
        return True


def processors(settings: Settings) -> list[structlog.typing.Processor]:
    """The processor chain, renderer last.

    Tracebacks are rendered as plain text, never with rich: cheap (a failing loop must not burn
    a core formatting frames) and without local variables (which may hold personal data or
    keys). Production writes JSON lines with the traceback text in the ``exception`` field."""
    chain: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    if settings.environment == "production":
        return [*chain, structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
    return [*chain, structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback)]


def configure_logging(settings: Settings) -> None:
    """Configure structlog once per process; personal data is never passed to loggers.

    structlog renders each line and hands it to the standard library's ``logging``, so library
    logs and ours leave through the same handlers (and the test suite's log scan sees both)."""
    structlog.configure(
        processors=processors(settings),
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(level=logging.INFO, format="%(message)s")  # no-op if handlers exist already
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(existing, DropQueryStrings) for existing in access.filters):
        access.addFilter(DropQueryStrings())
