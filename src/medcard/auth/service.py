"""Logging in and out. Tokens are random; only their SM3 hash is stored.

Patients log in through the messaging app's OAuth; the login binds the browser as a device and
may ask for a step-up (``medcard.devices``). Staff log in with a password. Both are rate-limited
per address, and staff per username, on rows in the database (no Redis needed), and a refused
staff login looks the same whether the username exists or not (R-SEC-06).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters.oauth import MessagingOAuth, OAuthCodeInvalid, OAuthIdentity
from medcard.audit.service import Actor, record
from medcard.auth import rules
from medcard.auth.errors import AccountFrozen, InvalidCredentials, OAuthCodeRejected, StaffNotFound
from medcard.auth.repository import AuthRepository
from medcard.config import Settings
from medcard.devices import service as devices
from medcard.devices.regions import region_of
from medcard.errors import NotAuthenticated, RateLimited
from medcard.kit.clock import clock
from medcard.kit.crypto import check_password, derive_key, hash_password, hmac_sm3, random_token, sm3_hex
from medcard.models import Account, AuthSession, LoginFailure, StaffUser

# Checked against when the username is unknown, so both answers take the same time.
_DUMMY_HASH = hash_password("not-a-real-password", salt=b"0" * 16)


def actor_for_account(account: Account) -> Actor:
    return Actor(kind="patient", id=str(account.id), label=account.nickname)


def actor_for_staff(staff: StaffUser) -> Actor:
    return Actor(kind="staff", id=str(staff.id), label=f"{staff.role}:{staff.username}", hospital_id=staff.hospital_id)


@dataclass(frozen=True)
class Client:
    """Where a login comes from: address, browser and the device key it carries (if any)."""

    ip: str
    user_agent: str = ""
    device_key: str | None = None


@dataclass(frozen=True)
class PatientLogin:
    """A patient's new session: the bearer token, the device key to keep, and why the login
    must step up before sensitive actions (empty for a normal login)."""

    account: Account
    token: str
    device_key: str
    step_up_reasons: tuple[str, ...]


async def _open_session(session: AsyncSession, *, settings: Settings, client: Client, **fields: object) -> str:
    token = random_token()
    session.add(
        AuthSession(
            token_hash=sm3_hex(token),
            expires_at=clock.now() + timedelta(hours=settings.session_hours),
            user_agent=client.user_agent[:256],
            **fields,
        )
    )
    await session.flush()
    return token


def _window(settings: Settings) -> timedelta:
    return timedelta(minutes=settings.login_window_minutes)


async def _refuse_when_locked(
    session: AsyncSession, *, scope: str, client_ip: str, subject_hash: str | None, settings: Settings
) -> None:
    """Refuse (429 with Retry-After, the longest wait that applies) while the address has too
    many refusals, the username has too many *from this address* (a lock keyed on subject and
    source: an attacker elsewhere cannot lock the user out), or the username's progressive delay
    across all addresses has not passed (R-SEC-06)."""
    repository = AuthRepository(session)
    now = clock.now()
    since = now - _window(settings)
    checks: list[tuple[int, str | None]] = [(settings.login_failures_per_ip, None)]
    if subject_hash is not None:
        checks.append((settings.login_failures_per_subject, subject_hash))
    waits: list[int] = []
    for limit, subject in checks:
        nth = await repository.nth_latest_failure(
            limit, scope=scope, since=since, subject_hash=subject, client_ip=client_ip
        )
        waits.append(rules.retry_after(nth, window=_window(settings), now=now) or 0)
    if subject_hash is not None:
        failures, latest = await repository.failure_run(scope=scope, subject_hash=subject_hash, since=since)
        delay = rules.progressive_delay(
            failures,
            latest,
            free=settings.login_failures_per_subject,
            cap_seconds=settings.login_delay_cap_seconds,
            now=now,
        )
        waits.append(delay or 0)
    if max(waits) > 0:
        raise RateLimited(retry_after=max(waits))


async def _count_failure(session: AsyncSession, *, scope: str, client_ip: str, subject_hash: str | None) -> None:
    failure = LoginFailure(scope=scope, subject_hash=subject_hash, client_ip=client_ip[:45])
    session.add(failure)
    await session.flush()
    await record(
        session,
        actor=Actor(kind="anonymous", id="-", label=f"{scope}-login"),
        action="auth.login_refused",
        subject=failure,
        result="refused",
    )


async def login_patient_with_code(
    session: AsyncSession, *, oauth: MessagingOAuth, code: str, client: Client, settings: Settings
) -> PatientLogin:
    """Exchange the messaging app's code and log the patient in; a refused code counts
    against the address."""
    await _refuse_when_locked(session, scope="patient", client_ip=client.ip, subject_hash=None, settings=settings)
    try:
        identity = await oauth.exchange_code(code)
    except OAuthCodeInvalid as error:
        await _count_failure(session, scope="patient", client_ip=client.ip, subject_hash=None)
        raise OAuthCodeRejected(keep_changes=True) from error
    return await login_patient(session, identity=identity, client=client, settings=settings)


async def login_patient(
    session: AsyncSession, *, identity: OAuthIdentity, client: Client, settings: Settings
) -> PatientLogin:
    """Find or create the account for ``identity.openid``, bind the device and open a session.
    A frozen security profile still logs in: reactivation needs a session (R-SEC-05)."""
    repository = AuthRepository(session)
    account = await repository.account_by_openid(identity.openid)
    if account is None:
        account = Account(openid=identity.openid, nickname=identity.nickname[:64])
        session.add(account)
        await session.flush()
        await record(session, actor=actor_for_account(account), action="account.create", subject=account)
    if account.status == "frozen":
        raise AccountFrozen()
    now = clock.now()
    nth = await repository.nth_latest_login(
        settings.patient_logins_per_account, account=account, since=now - _window(settings)
    )
    wait = rules.retry_after(nth, window=_window(settings), now=now)
    if wait is not None:
        raise RateLimited(retry_after=wait)
    region = region_of(client.ip, home_region=settings.home_region)
    actor = actor_for_account(account)
    recognition = await devices.recognise(
        session,
        account=account,
        device_key=client.device_key,
        user_agent=client.user_agent,
        region=region,
        settings=settings,
        actor=actor,
    )
    account.last_login_at = now
    token = await _open_session(
        session,
        settings=settings,
        client=client,
        account_id=account.id,
        device_id=recognition.device.id,
        region=region,
        step_up_reasons=",".join(recognition.reasons),
    )
    details = {"region": region, "step_up": list(recognition.reasons)}
    await record(session, actor=actor, action="auth.login", subject=account, details=details)
    return PatientLogin(account, token, recognition.device_key, recognition.reasons)


def _subject_hash(settings: Settings, scope: str, username: str) -> str:
    return hmac_sm3(derive_key(settings.secret_key, "login-subject"), f"{scope}:{username.lower()}".encode()).hex()


async def login_staff(
    session: AsyncSession, *, username: str, password: str, client: Client, settings: Settings
) -> tuple[StaffUser, str]:
    """Check a staff user's password and open a session. Unknown usernames, wrong passwords
    and inactive users get one answer in the same time (a dummy hash is checked), and count
    alike towards the username's and the address's lock."""
    subject = _subject_hash(settings, "staff", username)
    await _refuse_when_locked(session, scope="staff", client_ip=client.ip, subject_hash=subject, settings=settings)
    repository = AuthRepository(session)
    staff = await repository.staff_by_username(username)
    valid = check_password(password, staff.password_hash if staff else _DUMMY_HASH)
    if staff is None or not valid or not staff.active:
        await _count_failure(session, scope="staff", client_ip=client.ip, subject_hash=subject)
        raise InvalidCredentials(keep_changes=True)
    # Only this address's run ends: a correct password here must not hand an attacker
    # elsewhere a fresh set of guesses.
    await repository.clear_failures(scope="staff", subject_hash=subject, client_ip=client.ip[:45])
    token = await _open_session(session, settings=settings, client=client, staff_id=staff.id)
    await record(session, actor=actor_for_staff(staff), action="auth.staff_login", subject=staff)
    return staff, token


async def unlock_staff_login(
    session: AsyncSession, *, admin: StaffUser, username: str, client_ip: str | None, settings: Settings
) -> int:
    """An administrator ends a staff user's login lock and delay (R-SEC-06): deletes the
    username's refused logins, from one address or from all, and writes an audit row. Only
    existing staff users of the admin's hospital (any, for a platform admin) can be unlocked;
    others answer 404. Returns how many refusals were cleared."""
    staff = await AuthRepository(session).staff_by_username(username)
    if staff is None or (admin.hospital_id is not None and staff.hospital_id != admin.hospital_id):
        raise StaffNotFound()
    subject = _subject_hash(settings, "staff", username)
    address = client_ip[:45] if client_ip else None
    cleared = await AuthRepository(session).clear_failures(scope="staff", subject_hash=subject, client_ip=address)
    details = {"username": staff.username, "address": address or "*", "cleared": cleared}
    await record(session, actor=actor_for_staff(admin), action="auth.unlock", subject=staff, details=details)
    return cleared


async def authenticate(session: AsyncSession, token: str, *, with_holder: bool = False) -> AuthSession | None:
    """The live session for ``token``, or None if unknown, expired or revoked (``with_holder``:
    its account or staff user is loaded by the same statement)."""
    auth = await AuthRepository(session).session_by_token_hash(sm3_hex(token), with_holder=with_holder)
    if auth is None or auth.revoked_at is not None or auth.expires_at <= clock.now():
        return None
    return auth


def patient_account(account: Account | None) -> Account:
    """The account of a live patient login, usable: a deleted one is logged out (401), a
    frozen one refused (403). The account dependency and the payment gateway both check here."""
    if account is None or account.status == "deleted":
        raise NotAuthenticated()
    if account.status == "frozen":
        raise AccountFrozen()
    return account


async def logout(session: AsyncSession, auth: AuthSession, *, actor: Actor) -> None:
    """Revoke one session."""
    auth.revoked_at = clock.now()
    await record(session, actor=actor, action="auth.logout", subject=auth)
