"""Logging in and out. Tokens are random; only their SM3 hash is stored."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters.oauth import OAuthIdentity
from medcard.audit.service import Actor, record
from medcard.auth.errors import AccountFrozen, InvalidCredentials
from medcard.auth.repository import AuthRepository
from medcard.kit.clock import clock
from medcard.kit.crypto import check_password, hash_password, random_token, sm3_hex
from medcard.models import Account, AuthSession, StaffUser

# Checked against when the username is unknown, so both answers take the same time.
_DUMMY_HASH = hash_password("not-a-real-password", salt=b"0" * 16)


def actor_for_account(account: Account) -> Actor:
    return Actor(kind="patient", id=str(account.id), label=account.nickname)


def actor_for_staff(staff: StaffUser) -> Actor:
    return Actor(kind="staff", id=str(staff.id), label=f"{staff.role}:{staff.username}", hospital_id=staff.hospital_id)


async def _open_session(session: AsyncSession, *, hours: int, user_agent: str, **owner: object) -> str:
    token = random_token()
    session.add(
        AuthSession(
            token_hash=sm3_hex(token),
            expires_at=clock.now() + timedelta(hours=hours),
            user_agent=user_agent[:256],
            **owner,
        )
    )
    await session.flush()
    return token


async def login_patient(
    session: AsyncSession, *, identity: OAuthIdentity, user_agent: str, hours: int
) -> tuple[Account, str]:
    """Find or create the account for ``identity.openid`` and open a session for it."""
    repository = AuthRepository(session)
    account = await repository.account_by_openid(identity.openid)
    if account is None:
        account = Account(openid=identity.openid, nickname=identity.nickname[:64])
        session.add(account)
        await session.flush()
        await record(session, actor=actor_for_account(account), action="account.create", subject=account)
    if account.status == "frozen":
        raise AccountFrozen()
    account.last_login_at = clock.now()
    token = await _open_session(session, hours=hours, user_agent=user_agent, account_id=account.id)
    await record(session, actor=actor_for_account(account), action="auth.login", subject=account)
    return account, token


async def login_staff(
    session: AsyncSession, *, username: str, password: str, user_agent: str, hours: int
) -> tuple[StaffUser, str]:
    """Check a staff user's password and open a session; one answer for every failure."""
    staff = await AuthRepository(session).staff_by_username(username)
    valid = check_password(password, staff.password_hash if staff else _DUMMY_HASH)
    if staff is None or not valid or not staff.active:
        raise InvalidCredentials()
    token = await _open_session(session, hours=hours, user_agent=user_agent, staff_id=staff.id)
    await record(session, actor=actor_for_staff(staff), action="auth.staff_login", subject=staff)
    return staff, token


async def authenticate(session: AsyncSession, token: str) -> AuthSession | None:
    """The live session for ``token``, or None if unknown, expired or revoked."""
    auth = await AuthRepository(session).session_by_token_hash(sm3_hex(token))
    if auth is None or auth.revoked_at is not None or auth.expires_at <= clock.now():
        return None
    return auth


async def logout(session: AsyncSession, auth: AuthSession, *, actor: Actor) -> None:
    """Revoke one session."""
    auth.revoked_at = clock.now()
    await record(session, actor=actor, action="auth.logout", subject=auth)
