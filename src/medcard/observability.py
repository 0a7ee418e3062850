"""structlog set-up: JSON lines in production, readable lines in development."""

from __future__ import annotations

import logging

import structlog

from medcard.config import Settings


def configure_logging(settings: Settings) -> None:
    """Configure structlog once per process; personal data is never passed to loggers."""
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if settings.environment == "production"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        cache_logger_on_first_use=True,
    )
