"""Typed settings, read from the environment with the ``MEDCARD_`` prefix."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "dev-only-secret-change-me-0123456789abcdef"  # noqa: S105 - refused outside development
PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    """Every tunable of a deployment. Secrets refuse their dev defaults outside development."""

    model_config = SettingsConfigDict(env_prefix="MEDCARD_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = f"sqlite+aiosqlite:///{PROJECT_ROOT / 'var' / 'medcard.db'}"
    database_echo: bool = False
    secret_key: str = DEV_SECRET
    """Signs session tokens, QR codes and sandbox OAuth codes (HMAC-SM3)."""
    base_url: str = "http://127.0.0.1:8000"

    session_hours: int = Field(default=12, ge=1, le=720)
    sandbox_seed: int = 20261123
    sandbox_latency_scale: float = Field(default=0.02, ge=0.0, le=1.0)
    """Fraction of the real systems' mean latency the sandboxes wait (0 in tests)."""

    sms_code_ttl_seconds: int = Field(default=300, ge=30, le=3600)
    sms_per_phone_per_hour: int = Field(default=5, ge=1)
    sms_per_ip_per_hour: int = Field(default=20, ge=1)
    face_attempts_per_session: int = Field(default=3, ge=1, le=10)
    verification_session_minutes: int = Field(default=15, ge=1, le=120)
    max_upload_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    audit_retention_days: int = Field(default=180, ge=180)
    """How long audit rows are kept (R-SEC-08; the Cybersecurity Law asks for at least 180 days)."""
    audit_seal_interval_seconds: float = Field(default=1.0, ge=0.0)
    """How often the app's background sealer links new audit rows into the hash chain; 0 turns
    it off (tests; or when ``medcard audit seal`` runs from a scheduler instead)."""
    audit_seal_grace_seconds: int = Field(default=60, ge=1)
    """An audit row still unsealed after this long is reported as stale by ``audit verify``."""

    @model_validator(mode="after")
    def _refuse_dev_secrets(self) -> Settings:
        if self.environment != "development" and (self.secret_key == DEV_SECRET or len(self.secret_key) < 32):
            raise ValueError("MEDCARD_SECRET_KEY must be a random value of 32+ characters outside development")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (tests build their own instances)."""
    return Settings()
