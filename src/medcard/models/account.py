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

    person: Mapped[Person | None] = relationship(lazy="joined")


class StaffUser(Base):
    """A hospital or platform staff member with one role (收费窗口, 自助机, 药店, 热线, 审核, 管理)."""

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
