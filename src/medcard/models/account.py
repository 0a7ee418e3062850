"""Who logs in: patient accounts (messaging-app openid), staff users and their sessions."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from medcard.models.base import Base
from medcard.models.person import Person

STAFF_ROLES = ("cashier", "kiosk", "pharmacy", "hotline", "reviewer", "admin")


class Account(Base):
    """A patient-side login (the messaging app's ``openid``); real-name verified once."""

    __tablename__ = "account"

    openid: Mapped[str] = mapped_column(String(64), unique=True)
    nickname: Mapped[str] = mapped_column(String(64), default="")
    person_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("person.id"), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    language: Mapped[str] = mapped_column(String(8), default="zh")
    last_login_at: Mapped[datetime | None]
    elder_mode: Mapped[bool] = mapped_column(default=False)
    """长辈模式 (R-A11Y-01): larger text, high contrast, payment in three steps; remembered here."""
    consent_version: Mapped[str | None] = mapped_column(String(16))
    """The version of 用户协议 / 隐私政策 / 个人信息处理授权 this account last accepted (None: never)."""
    consent_accepted_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
    """When the patient deleted the account (注销); personal data is gone, audit and payment rows stay."""

    person: Mapped[Person | None] = relationship(lazy="joined")


class StaffUser(Base):
    """A hospital or platform staff member with one role (收费窗口，自助机，药店，热线，审核，管理)."""

    __tablename__ = "staff_user"

    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(160))
    role: Mapped[str] = mapped_column(String(16))
    hospital_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("hospital.id"))
    active: Mapped[bool] = mapped_column(default=True)


class AuthSession(Base):
    """A login session; only the SM3 hash of its bearer token is stored."""

    __tablename__ = "auth_session"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id"), index=True)
    staff_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff_user.id"), index=True)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    user_agent: Mapped[str] = mapped_column(String(256), default="")
    device_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("device.id"), index=True)
    region: Mapped[str] = mapped_column(String(24), default="")
    """Where the login came from (a city code from the IP, R-SEC-06)."""
    step_up_reasons: Mapped[str] = mapped_column(String(64), default="")
    """Why this login looked abnormal (``new_device``, ``new_region``, ``impossible_travel``,
    comma-separated); empty for a normal login. Sensitive actions wait for a step-up."""
    stepped_up_at: Mapped[datetime | None]
    step_up_method: Mapped[str | None] = mapped_column(String(16))
    challenge: Mapped[str | None] = mapped_column(String(128))
    """The pending WebAuthn challenge (base64url), single use."""
    challenge_expires_at: Mapped[datetime | None]
    current_patient_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("person.id"))
    """The patient chosen with "switch patient" (切换就诊人) in this session; ``None`` = the holder."""


class LoginFailure(Base):
    """One refused login (R-SEC-06 rate limits): counted per subject and per client IP in a
    window. ``subject_hash`` is an HMAC-SM3 of the username, so the table names nobody."""

    __tablename__ = "login_failure"

    scope: Mapped[str] = mapped_column(String(16))
    """``staff`` or ``patient``."""
    subject_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    client_ip: Mapped[str] = mapped_column(String(45), index=True)
