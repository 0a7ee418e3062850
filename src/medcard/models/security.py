"""Per-account security state: payment password, freeze / loss report, limits and the
user's permission settings (R-SEC-03, R-SEC-05, R-SEC-06, R-SEC-07)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from medcard.models.base import Base, utcnow

BILL_VISIBILITY = ("self", "guardians", "family")
FAMILY_SCOPES = ("none", "cards", "cards_and_bills")
DEFAULT_PER_TRANSACTION_LIMIT_FEN = 500_000
DEFAULT_DAILY_LIMIT_FEN = 2_000_000


class SecurityProfile(Base):
    """One per account. The payment password (支付密码) is kept only as an HMAC-SM3 under a
    server-side pepper that never enters the database; a freeze (冻结 / 临时挂失) refuses
    every code and payment of the account until reactivation."""

    __tablename__ = "security_profile"

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id"), unique=True)
    pin_salt: Mapped[str | None] = mapped_column(String(32))
    pin_hash: Mapped[str | None] = mapped_column(String(64))
    pin_set_at: Mapped[datetime | None]
    pin_failures: Mapped[int] = mapped_column(default=0)
    pin_locked_until: Mapped[datetime | None]
    frozen_at: Mapped[datetime | None]
    frozen_reason: Mapped[str | None] = mapped_column(String(24))
    """``self_freeze`` (from another logged-in device) or ``loss_report`` (hotline)."""
    frozen_by: Mapped[str | None] = mapped_column(String(64))
    per_transaction_limit_fen: Mapped[int] = mapped_column(default=DEFAULT_PER_TRANSACTION_LIMIT_FEN)
    daily_limit_fen: Mapped[int] = mapped_column(default=DEFAULT_DAILY_LIMIT_FEN)
    bill_visibility: Mapped[str] = mapped_column(String(16), default="self")
    """Who may see bill details (R-SEC-07): ``self``, ``guardians`` or ``family``."""
    family_scope: Mapped[str] = mapped_column(String(24), default="none")
    """What family members bound to this account may share (R-SEC-07)."""
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Device(Base):
    """A browser or phone bound to an account at login (设备绑定，R-SEC-04/06). The device key
    lives in an HttpOnly cookie; only its HMAC-SM3 is kept. The account's first device is
    trusted at once; a later one becomes trusted after a step-up (二次验证)."""

    __tablename__ = "device"
    __table_args__ = (UniqueConstraint("account_id", "key_hash"),)

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(64), default="")
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_region: Mapped[str] = mapped_column(String(24), default="")
    trusted_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class WebAuthnCredential(Base):
    """A platform authenticator (fingerprint / face ID, 指纹/面容) registered on a bound device
    through WebAuthn (R-SEC-04). The sign count must grow with every use: a count that goes
    back means a cloned authenticator and is refused."""

    __tablename__ = "webauthn_credential"

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id"), index=True)
    device_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("device.id"), index=True)
    credential_id: Mapped[str] = mapped_column(String(512), unique=True)
    """base64url of the authenticator's credential id."""
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    """COSE-encoded public key."""
    sign_count: Mapped[int] = mapped_column(BigInteger, default=0)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class AuditCheckpoint(Base):
    """A signed checkpoint of the audit chain (R-SEC-08): HMAC-SM3, under a key that never
    enters the database, over the chain head at one moment. Whoever can write the database can
    recompute the unkeyed SM3 chain after an edit, but cannot forge these."""

    __tablename__ = "audit_checkpoint"

    chain_seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    row_hash: Mapped[str] = mapped_column(String(64))
    mac: Mapped[str] = mapped_column(String(64))
