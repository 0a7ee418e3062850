"""Typed settings, read from the environment with the ``MEDCARD_`` prefix."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from medcard.kit.keys import MIN_SECRET_LENGTH, KeyRing, parse_data_keys

DEV_SECRET = "dev-only-secret-change-me-0123456789abcdef"  # noqa: S105 - refused outside development
PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    """Every tunable of a deployment. Secrets refuse their dev defaults outside development."""

    # A refused start must never print a secret: pydantic's error text would otherwise echo the
    # input (the whole environment) next to the message.
    model_config = SettingsConfigDict(env_prefix="MEDCARD_", env_file=".env", extra="ignore", hide_input_in_errors=True)

    environment: Literal["development", "test", "staging", "production"] = "development"
    database_url: str = f"sqlite+aiosqlite:///{PROJECT_ROOT / 'var' / 'medcard.db'}"
    database_echo: bool = False
    secret_key: str = Field(default=DEV_SECRET, repr=False)
    """Signs session tokens, QR codes and sandbox OAuth codes (HMAC-SM3)."""
    data_keys: str = Field(default="", repr=False)
    """SM4-GCM field-encryption keys, ``v1:<secret>,v2:<secret>`` (the highest version encrypts,
    every listed one decrypts; see ``medcard.kit.keys``). Empty: one key ``v1`` derived from
    ``secret_key`` — development and tests only, refused in production."""
    blind_index_key: str = Field(default="", repr=False)
    """Secret of the HMAC-SM3 blind indexes (ID number, phone). Empty: derived from ``secret_key``
    — development and tests only, refused in production. Not rotated with the data keys."""
    base_url: str = "http://127.0.0.1:8000"

    session_hours: int = Field(default=12, ge=1, le=720)
    sandbox: bool = False
    """``MEDCARD_SANDBOX=true`` opens the sandbox stand-ins (OAuth consent page that picks any
    openid, SMS outbox, sample photos, sandbox hints on pages). Off, those routes are 404.
    Production refuses to start with it; staging must name it to get it; ``make run`` and the
    tests set it."""
    metrics_token: str = Field(default="", repr=False)
    """Bearer token for ``GET /metrics`` (``Authorization: Bearer …``); empty: /metrics is 404."""
    sandbox_seed: int = 20261123
    sandbox_latency_scale: float = Field(default=0.02, ge=0.0, le=1.0)
    """Fraction of the real systems' mean latency the sandboxes wait (0 in tests)."""
    sandbox_channel_timeout_rate: float = Field(default=0.02, ge=0.0, le=1.0)
    """Share of payment-channel calls (pay, refund) whose answer is lost; the sandbox may still
    have applied them (``sandbox_applied_before_timeout_rate``), so the caller queries."""
    sandbox_channel_failure_rate: float = Field(default=0.01, ge=0.0, le=1.0)
    """Share of channel charges declined for good (the order ends ``failed``)."""
    sandbox_channel_false_insufficient_rate: float = Field(default=0.03, ge=0.0, le=1.0)
    """Share of channel charges refused with "insufficient balance" although the payer has the
    money: a transient channel delay; the same request succeeds when retried (R-PAY-07)."""
    sandbox_insurance_timeout_rate: float = Field(default=0.02, ge=0.0, le=1.0)
    """Share of insurance settlements (6202) and refunds (6203) whose answer is lost."""
    sandbox_applied_before_timeout_rate: float = Field(default=0.5, ge=0.0, le=1.0)
    """Of the timed-out calls, the share the outside system had applied before the answer was lost."""

    sandbox_his_extra_bills: int = Field(default=0, ge=0, le=100_000)
    """Unpaid outpatient bills the HIS sandbox adds to every patient's list (deterministic, so
    they are the same after a restart): benchmarks and the crash test pay many bills per patient."""
    patient_hotline: str = Field(default="12320", max_length=20)
    """The patient service hotline shown on every patient page (loss reports, card questions)."""

    sms_code_ttl_seconds: int = Field(default=300, ge=30, le=3600)
    sms_per_phone_per_hour: int = Field(default=5, ge=1)
    sms_per_ip_per_hour: int = Field(default=20, ge=1)
    face_attempts_per_session: int = Field(default=3, ge=1, le=10)
    verification_session_minutes: int = Field(default=15, ge=1, le=120)
    max_upload_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    home_region: str = "beijing"
    """The login region of loopback and private addresses (a deployment's own network), R-SEC-06."""
    trusted_proxies: list[str] = Field(default_factory=list)
    """Peers whose ``X-Forwarded-For`` is believed (the reverse proxy in front of the app)."""
    login_window_minutes: int = Field(default=15, ge=1, le=1440)
    login_failures_per_subject: int = Field(default=5, ge=1)
    """Wrong passwords for one username *from one address* in the window before that pair is
    locked (R-SEC-06); from the same count on, every address waits a growing delay."""
    login_delay_cap_seconds: int = Field(default=60, ge=1, le=3600)
    """Longest progressive delay between a username's failed logins from any address: 1 s, 2 s,
    4 s … up to this (R-SEC-06). An attacker can slow a user down, never lock him out."""
    login_failures_per_ip: int = Field(default=30, ge=1)
    """Refused logins from one address in the window before the address is refused."""
    patient_logins_per_account: int = Field(default=20, ge=1)
    """Logins of one patient account in the window (session churn ceiling)."""
    webauthn_rp_id: str | None = None
    """WebAuthn relying-party id; by default the host of ``base_url`` (``localhost`` for an IP:
    WebAuthn needs a domain, and browsers treat http://localhost as a secure context)."""
    webauthn_origins: list[str] = Field(default_factory=list)
    """Origins accepted in WebAuthn responses; by default ``base_url`` with the host above."""
    idempotency_lock_seconds: int = Field(default=60, ge=1)
    """How long an idempotency key stays locked by a request that never finished (a crash);
    after that a retry with the same key may resume it (R-PAY-05)."""
    idempotency_retention_hours: int = Field(default=24, ge=1)
    """How long finished idempotency keys are kept for replay before the worker purges them."""
    job_worker_interval_seconds: float = Field(default=1.0, ge=0.0)
    """How often the app's in-process job worker looks for due jobs; 0 turns it off (tests; or
    when ``medcard worker`` runs as its own process)."""
    job_lease_seconds: int = Field(default=300, ge=10)
    """How long a worker owns a claimed job; a job still running after that is taken over."""
    family_review_all: bool = False
    """Staff review every family binding (policy); by default only those the identity authority
    could not confirm itself: adults' relations and guardians who are not parents (R-FAM-02)."""
    audit_retention_days: int = Field(default=180, ge=180)
    """How long audit rows are kept (R-SEC-08; the Cybersecurity Law asks for at least 180 days)."""
    audit_seal_interval_seconds: float = Field(default=1.0, ge=0.0)
    """How often the app's background sealer links new audit rows into the hash chain; 0 turns
    it off (tests; or when ``medcard audit seal`` runs from a scheduler instead)."""
    audit_seal_grace_seconds: int = Field(default=60, ge=1)
    """An audit row still unsealed after this long is reported as stale by ``audit verify``."""
    code_gateway_in_flight: int = Field(default=8, ge=1)
    """Payment-code transactions the code gateway runs at once per operation (issue, redeem); each
    takes every request waiting (docs/adr/0005). More overlap database round trips; fewer make
    bigger, cheaper batches."""
    payment_gateway_in_flight: int = Field(default=4, ge=1)
    """Batches of online payments the payment gateway runs at once (docs/adr/0012): each holds
    its payers' accounts locked from its open to its commit and waits for the channel between."""
    payment_gateway_overlap_from: int = Field(default=16, ge=1)
    """Payments waiting before a further batch starts beside a running one (docs/adr/0012)."""

    @model_validator(mode="after")
    def _refuse_dev_secrets(self) -> Settings:
        # Messages name the setting, never its value (they end up in the start-up log).
        if self.environment == "production" and self.sandbox:
            raise ValueError("MEDCARD_SANDBOX must not be set in production")
        if self.metrics_token and len(self.metrics_token) < MIN_SECRET_LENGTH:
            raise ValueError("MEDCARD_METRICS_TOKEN must be a random value of 32+ characters")
        if self.environment != "development" and (self.secret_key == DEV_SECRET or len(self.secret_key) < 32):
            raise ValueError("MEDCARD_SECRET_KEY must be a random value of 32+ characters outside development")
        data_secrets = parse_data_keys(self.data_keys) if self.data_keys else {}
        if self.environment == "production":
            if not data_secrets or not self.blind_index_key:
                raise ValueError("MEDCARD_DATA_KEYS and MEDCARD_BLIND_INDEX_KEY must be set in production")
            given = [*data_secrets.values(), self.blind_index_key]
            if any(len(secret) < MIN_SECRET_LENGTH or secret == self.secret_key for secret in given):
                raise ValueError(
                    "MEDCARD_DATA_KEYS secrets and MEDCARD_BLIND_INDEX_KEY must be random values of 32+ characters,"
                    " distinct from MEDCARD_SECRET_KEY"
                )
        return self

    def key_ring(self) -> KeyRing:
        """The field-encryption keys of this deployment (derived from the secret key when unset)."""
        data_secrets = parse_data_keys(self.data_keys) if self.data_keys else {"v1": self.secret_key}
        return KeyRing.from_secrets(data_secrets, self.blind_index_key or self.secret_key)

    @property
    def relying_party(self) -> tuple[str, list[str]]:
        """The WebAuthn relying-party id and the origins it accepts (R-SEC-04)."""
        url = urlsplit(self.base_url)
        host = url.hostname or "localhost"
        if _is_ip(host):
            host = "localhost"
        rp_id = self.webauthn_rp_id or host
        port = f":{url.port}" if url.port else ""
        return rp_id, self.webauthn_origins or [f"{url.scheme}://{rp_id}{port}"]

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (tests build their own instances)."""
    return Settings()
