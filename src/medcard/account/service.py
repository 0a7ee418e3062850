"""The patient's own account: accept the agreements, switch elder mode, delete the account.

Each change writes an audit row; services flush, the request's unit of work commits."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from medcard.account import rules
from medcard.account.errors import ConsentRequired, ConsentVersionStale, DeletionNotConfirmed
from medcard.account.repository import AccountRepository
from medcard.audit.service import record
from medcard.auth.service import actor_for_account
from medcard.kit.clock import clock
from medcard.models import Account

DELETION_WORDS = {"zh": "确认注销", "en": "DELETE"}
"""What the patient types to confirm 注销, in the page's language (either is accepted)."""


async def accept_consent(session: AsyncSession, *, account: Account, version: str) -> Account:
    """Store the agreement version the patient accepted; an outdated page's version is refused."""
    if version != rules.CONSENT_VERSION:
        raise ConsentVersionStale(field="version")
    if account.consent_version == version:
        return account  # already accepted: nothing changes, nothing to audit
    account.consent_version = version
    account.consent_accepted_at = clock.now()
    await record(
        session,
        actor=actor_for_account(account),
        action="account.consent",
        subject=account,
        details={"version": version},
    )
    return account


def require_consent(account: Account) -> None:
    """Real-name verification needs the current agreements accepted first."""
    if rules.needs_consent(account.consent_version):
        raise ConsentRequired()


async def set_elder_mode(session: AsyncSession, *, account: Account, on: bool) -> Account:
    """Switch 长辈模式 for this account (R-A11Y-01); remembered across devices."""
    if account.elder_mode != on:
        account.elder_mode = on
        await record(
            session, actor=actor_for_account(account), action="account.elder_mode", subject=account, details={"on": on}
        )
    return account


async def delete_account(session: AsyncSession, *, account: Account, confirm: str) -> Account:
    """注销: end every session, cancel the cards, unbind the e-vouchers and remove the personal
    data the platform holds for this login. Audit rows and payment records stay (the law keeps
    them); the hospital keeps its medical record, so the card rows keep the encrypted name and
    document number but lose contact details."""
    if confirm.strip() not in DELETION_WORDS.values():
        raise DeletionNotConfirmed(field="confirm")
    now = clock.now()
    actor = actor_for_account(account)
    repository = AccountRepository(session)
    cards = await repository.cards_of(account)
    for card in cards:
        card.status = "cancelled"
        card.phone = ""
        card.address = ""
        card.employer = ""
        card.emergency_name = ""
        card.emergency_phone = ""
        card.allergy_history = None
        card.qr_version += 1  # a screenshot of the old QR no longer identifies anyone
    for binding in await repository.bindings_of(account):
        binding.status = "unbound"
        binding.unbound_at = now
    if account.person is not None:
        account.person.phone = None
    account.person = None
    sessions = await repository.revoke_sessions(account, at=now)
    account.openid = f"deleted:{account.id}"
    account.nickname = ""
    account.status = "deleted"
    account.deleted_at = now
    await record(
        session,
        actor=actor,
        action="account.delete",
        subject=account,
        details={"cards_cancelled": len(cards), "sessions_ended": sessions},
    )
    return account
