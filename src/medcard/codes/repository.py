"""Queries for payment codes, set-based so that a batch of issues or redemptions costs a fixed
number of statements. The consume is one conditional UPDATE: of any number of concurrent
redeemers of one code, exactly one gets its row back."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, bindparam, case, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import load_only, raiseload

from medcard.db import driver_connection
from medcard.kit import keys
from medcard.models import Account, AuthSession, Card, Hospital, PaymentCode, Region, SecurityProfile


@dataclass(frozen=True)
class CodeRow:
    """The columns of a payment code the redeem path needs."""

    id: uuid.UUID
    code_hash: str
    card_id: uuid.UUID
    account_id: uuid.UUID
    status: str
    expires_at: datetime


_TABLE: Table = PaymentCode.metadata.tables["payment_code"]
_COLUMNS = (
    PaymentCode.id,
    PaymentCode.code_hash,
    PaymentCode.card_id,
    PaymentCode.account_id,
    PaymentCode.status,
    PaymentCode.expires_at,
)


@dataclass(frozen=True)
class CardFacts:
    """What a redemption needs of the card: only these columns are read (and one decrypted)."""

    id: uuid.UUID
    status: str
    card_number: str
    name: str
    hospital_id: uuid.UUID
    scope: str


@dataclass(frozen=True)
class PatientLogin:
    """A live patient login as the issue path needs it, read in one statement."""

    auth: AuthSession
    account: Account
    cards: dict[uuid.UUID, Card]
    """Those of the requested cards the account owns."""
    issued: dict[uuid.UUID, int]
    """Codes each of those cards issued in the rate window."""
    has_profile: bool
    frozen: bool


@dataclass(frozen=True)
class ProfileFacts:
    """What a redemption needs of the holder's security profile (read under its row lock)."""

    frozen_at: datetime | None
    per_transaction_limit_fen: int
    daily_limit_fen: int


_CARD: Table = Card.metadata.tables["card"]
_CARD_FACTS = ("status", "card_number", "name", "hospital_id", "scope")


class CodeRepository:
    """Payment-code lookups, the atomic consume and the counters behind rate and limit rules."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def patient_logins(
        self, token_hashes: Collection[str], card_ids: Collection[uuid.UUID], *, now: datetime, issued_since: datetime
    ) -> dict[str, PatientLogin]:
        """For a batch of issue requests (the code gateway), in one statement: each live patient
        session by token hash, its account, the account's security profile state (frozen, or none
        yet), and those of ``card_ids`` the account owns with the codes each issued since
        ``issued_since`` (the issue-rate rule). Cards carry only id, owner and status (no
        encrypted column is read); the account's person is not loaded. On PostgreSQL the
        statement goes straight to asyncpg and the rows become detached, partly filled objects
        (only the columns named here are set; they are never added to the session)."""
        driver = await driver_connection(self.session)
        if driver is not None:
            return _logins(await driver.fetch(_PATIENT_LOGINS, list(token_hashes), list(card_ids), now, issued_since))
        owned = and_(Card.account_id == Account.id, Card.id.in_(card_ids))
        profile = SecurityProfile.__table__
        issued = (
            select(func.count())
            .where(_TABLE.c.card_id == Card.id, _TABLE.c.issued_at >= issued_since)
            .scalar_subquery()
            .label("issued")
        )
        rows = await self.session.execute(
            select(AuthSession, Account, Card, profile.c.account_id, profile.c.frozen_at, issued)
            .join(Account, AuthSession.account_id == Account.id)
            .outerjoin(Card, owned)
            .outerjoin(profile, profile.c.account_id == Account.id)
            .options(
                raiseload(Account.person),
                load_only(Card.id, Card.account_id, Card.status),
                raiseload(Card.hospital),
                raiseload(Card.person),
            )
            .where(
                AuthSession.token_hash.in_(token_hashes), AuthSession.revoked_at.is_(None), AuthSession.expires_at > now
            )
        )
        logins: dict[str, PatientLogin] = {}
        for auth, account, card, profile_account, frozen_at, count in rows:
            login = logins.get(auth.token_hash)
            if login is None:
                login = logins[auth.token_hash] = PatientLogin(
                    auth, account, {}, {}, has_profile=profile_account is not None, frozen=frozen_at is not None
                )
            if card is not None:
                login.cards[card.id] = card
                login.issued[card.id] = int(count or 0)
        return logins

    async def issued_counts(self, card_ids: Collection[uuid.UUID], since: datetime) -> dict[uuid.UUID, int]:
        rows = await self.session.execute(
            select(PaymentCode.card_id, func.count())
            .where(PaymentCode.card_id.in_(card_ids), PaymentCode.issued_at >= since)
            .group_by(PaymentCode.card_id)
        )
        return {card_id: int(count) for card_id, count in rows}

    async def insert(self, rows: list[dict[str, Any]]) -> None:
        """Insert issued codes in one statement (ids and times are chosen by the caller)."""
        if not rows:
            return
        driver = await driver_connection(self.session)
        if driver is None:
            await self.session.execute(insert(_TABLE), rows)
            return
        await driver.execute(_INSERT_CODES, *([row[name] for row in rows] for name in _INSERT_CODE_COLUMNS))

    async def by_hashes(self, hashes: Collection[str]) -> dict[str, CodeRow]:
        rows = await self.session.execute(select(*_COLUMNS).where(PaymentCode.code_hash.in_(hashes)))
        return {row.code_hash: CodeRow(*row) for row in rows}

    async def lock_holders(self, hashes: Collection[str]) -> tuple[dict[str, CodeRow], dict[uuid.UUID, ProfileFacts]]:
        """Look the codes up and lock their holders' security profiles in one statement,
        ``FOR UPDATE OF security_profile`` in account-id order (two batches locking overlapping
        accounts cannot deadlock; a freeze that committed while we waited is seen). Codes whose
        holder has no profile, and unknown hashes, are looked up by a second statement only
        when there are any (issue creates the profile, so a live code normally has one)."""
        profile = SecurityProfile.__table__
        driver = await driver_connection(self.session)
        rows: Any
        if driver is not None:
            rows = await driver.fetch(_LOCK_HOLDERS, list(hashes))
        else:
            rows = await self.session.execute(
                select(*_COLUMNS, profile.c.frozen_at, profile.c.per_transaction_limit_fen, profile.c.daily_limit_fen)
                .join(profile, profile.c.account_id == PaymentCode.account_id)
                .where(PaymentCode.code_hash.in_(hashes))
                .order_by(profile.c.account_id)
                .with_for_update(of=profile)
            )
        codes: dict[str, CodeRow] = {}
        profiles: dict[uuid.UUID, ProfileFacts] = {}
        for row in rows:
            code = CodeRow(*row[:6])
            codes[code.code_hash] = code
            profiles[code.account_id] = ProfileFacts(*row[6:9])
        missing = set(hashes) - codes.keys()
        if missing:
            codes |= await self.by_hashes(missing)
        return codes, profiles

    async def cards(self, card_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, CardFacts]:
        rows = await self.session.execute(
            select(Card.id, Card.status, Card.card_number, Card.name, Card.hospital_id, Card.scope).where(
                Card.id.in_(card_ids)
            )
        )
        return {row.id: CardFacts(*row) for row in rows}

    async def hospital_regions(self, hospital_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, str]:
        """The region code of each hospital (where regional cards pay, R-CARD-05)."""
        rows = await self.session.execute(
            select(Hospital.id, Region.code)
            .join(Region, Hospital.region_id == Region.id)
            .where(Hospital.id.in_(hospital_ids))
        )
        return {row.id: row.code for row in rows}

    async def consume(
        self, merchants: Mapping[str, str], *, now: datetime
    ) -> tuple[dict[str, CodeRow], dict[uuid.UUID, CardFacts]]:
        """Mark every code of ``merchants`` (hash → merchant) used if, at this instant, it is
        still issued and unexpired; return the rows consumed and their cards' facts (read by the
        same statement). One conditional UPDATE per merchant in the batch (a POS batch has one)."""
        by_merchant: dict[str, list[str]] = {}
        for digest, merchant in merchants.items():
            by_merchant.setdefault(merchant, []).append(digest)
        consumed: dict[str, CodeRow] = {}
        cards: dict[uuid.UUID, CardFacts] = {}
        driver = await driver_connection(self.session)
        if driver is not None:  # PostgreSQL: UPDATE … FROM card … RETURNING, straight to asyncpg
            for merchant, hashes in by_merchant.items():
                for row in await driver.fetch(_CONSUME, hashes, now, merchant):
                    code = CodeRow(*row[:6])
                    consumed[code.code_hash] = code
                    status, number, name, hospital_id, scope = row[6:11]
                    name = keys.active().decrypt(name, "card.name").decode()  # as EncryptedText reads it
                    cards[code.card_id] = CardFacts(code.card_id, status, number, name, hospital_id, scope)
            return consumed, cards
        for merchant, hashes in by_merchant.items():
            statement = (
                update(_TABLE)
                .where(_TABLE.c.code_hash.in_(hashes), _TABLE.c.status == "issued", _TABLE.c.expires_at > now)
                .values(status="consumed", consumed_at=now, merchant_id=merchant)
            )
            # SQLite's RETURNING may not name a FROM table; correlated subqueries may
            facts = [
                select(_CARD.c[name]).where(_CARD.c.id == _TABLE.c.card_id).scalar_subquery().label(f"card_{name}")
                for name in _CARD_FACTS
            ]
            result = await self.session.execute(
                statement.returning(*(_TABLE.c[column.key] for column in _COLUMNS), *facts)
            )
            for row in result:
                code = CodeRow(*row[:6])
                consumed[code.code_hash] = code
                if row[6] is not None:
                    cards[code.card_id] = CardFacts(code.card_id, *row[6:])
        return consumed, cards

    async def payments(
        self, account_ids: Collection[uuid.UUID], *, recent_since: datetime, day_since: datetime
    ) -> dict[uuid.UUID, tuple[int, int]]:
        """Per account: paid codes since ``recent_since`` and fen paid since ``day_since``."""
        driver = await driver_connection(self.session)
        if driver is not None:
            found = await driver.fetch(_PAYMENTS, list(account_ids), recent_since, day_since)
            return {row[0]: (int(row[1] or 0), int(row[2] or 0)) for row in found}
        recent = func.sum(case((PaymentCode.consumed_at >= recent_since, 1), else_=0))
        spent = func.sum(case((PaymentCode.consumed_at >= day_since, PaymentCode.amount_fen), else_=0))
        rows = await self.session.execute(
            select(PaymentCode.account_id, recent, spent)
            .where(
                PaymentCode.account_id.in_(account_ids),
                PaymentCode.consumed_at >= min(recent_since, day_since),
                PaymentCode.amount_fen.is_not(None),
            )
            .group_by(PaymentCode.account_id)
        )
        return {account_id: (int(count or 0), int(fen or 0)) for account_id, count, fen in rows}

    async def set_amounts(self, amounts: Mapping[uuid.UUID, int]) -> None:
        """Record the amount each consumed code paid (what the limit and velocity rules count)."""
        if not amounts:
            return
        driver = await driver_connection(self.session)
        if driver is not None:
            await driver.execute(_SET_AMOUNTS, list(amounts), list(amounts.values()))
            return
        await self.session.execute(
            update(_TABLE).where(_TABLE.c.id == bindparam("code_id")).values(amount_fen=bindparam("fen")),
            [{"code_id": code_id, "fen": fen} for code_id, fen in amounts.items()],
            execution_options={"synchronize_session": False},
        )

    async def revoke_live(self, account_id: uuid.UUID, *, now: datetime) -> int:
        result = await self.session.execute(
            update(PaymentCode)
            .where(PaymentCode.account_id == account_id, PaymentCode.status == "issued", PaymentCode.expires_at > now)
            .values(status="revoked")
            .execution_options(synchronize_session=False)
        )
        rowcount: int = getattr(result, "rowcount", 0) or 0
        return rowcount

    async def code(self, code_id: uuid.UUID) -> PaymentCode | None:
        """One code as it is now (re-read, so a caller that waited on a lock sees the winner's write)."""
        return await self.session.scalar(
            select(PaymentCode).where(PaymentCode.id == code_id).execution_options(populate_existing=True)
        )


# PostgreSQL statements of the code gateway's path, sent straight to asyncpg (docs/adr/0005): each
# is prepared once per connection and serves every batch size (arrays, not IN lists).
_PATIENT_LOGINS = """
SELECT s.token_hash, s.step_up_reasons, s.stepped_up_at, a.id, a.nickname, a.status, c.id, c.status,
       p.account_id IS NOT NULL, p.frozen_at IS NOT NULL,
       (SELECT count(*) FROM payment_code pc WHERE pc.card_id = c.id AND pc.issued_at >= $4)
FROM auth_session s
JOIN account a ON a.id = s.account_id
LEFT JOIN card c ON c.account_id = a.id AND c.id = ANY($2::uuid[])
LEFT JOIN security_profile p ON p.account_id = a.id
WHERE s.token_hash = ANY($1::text[]) AND s.revoked_at IS NULL AND s.expires_at > $3"""
_INSERT_CODE_COLUMNS = ("id", "created_at", "code_hash", "card_id", "account_id", "issued_at", "expires_at", "status")
_INSERT_CODES = """
INSERT INTO payment_code (id, created_at, code_hash, card_id, account_id, issued_at, expires_at, status)
SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::uuid[], $5::uuid[], $6::timestamptz[],
                     $7::timestamptz[], $8::text[])"""
_LOCK_HOLDERS = """
SELECT c.id, c.code_hash, c.card_id, c.account_id, c.status, c.expires_at,
       p.frozen_at, p.per_transaction_limit_fen, p.daily_limit_fen
FROM payment_code c JOIN security_profile p ON p.account_id = c.account_id
WHERE c.code_hash = ANY($1::text[])
ORDER BY p.account_id
FOR UPDATE OF p"""
_CONSUME = """
UPDATE payment_code SET status = 'consumed', consumed_at = $2, merchant_id = $3
FROM card
WHERE payment_code.code_hash = ANY($1::text[]) AND payment_code.status = 'issued' AND payment_code.expires_at > $2
  AND card.id = payment_code.card_id
RETURNING payment_code.id, payment_code.code_hash, payment_code.card_id, payment_code.account_id,
          payment_code.status, payment_code.expires_at,
          card.status, card.card_number, card.name, card.hospital_id, card.scope"""
_PAYMENTS = """
SELECT account_id, sum(CASE WHEN consumed_at >= $2 THEN 1 ELSE 0 END),
       sum(CASE WHEN consumed_at >= $3 THEN amount_fen ELSE 0 END)
FROM payment_code
WHERE account_id = ANY($1::uuid[]) AND consumed_at >= LEAST($2, $3) AND amount_fen IS NOT NULL
GROUP BY account_id"""
_SET_AMOUNTS = """
UPDATE payment_code SET amount_fen = t.fen
FROM unnest($1::uuid[], $2::integer[]) AS t(id, fen)
WHERE payment_code.id = t.id"""


def _logins(rows: Sequence[Any]) -> dict[str, PatientLogin]:
    """Rows of ``_PATIENT_LOGINS`` as :class:`PatientLogin`: the session, account and cards are
    transient objects holding only the columns read."""
    logins: dict[str, PatientLogin] = {}
    for token_hash, reasons, stepped_up_at, account_id, nickname, status, card_id, card_status, *rest in rows:
        has_profile, frozen, count = rest
        login = logins.get(token_hash)
        if login is None:
            auth = AuthSession(token_hash=token_hash, step_up_reasons=reasons, stepped_up_at=stepped_up_at)
            account = Account(id=account_id, nickname=nickname, status=status)
            login = logins[token_hash] = PatientLogin(auth, account, {}, {}, has_profile=has_profile, frozen=frozen)
        if card_id is not None:
            login.cards[card_id] = Card(id=card_id, account_id=account_id, status=card_status)
            login.issued[card_id] = int(count or 0)
    return logins
