"""Loading what the pure rules need: the payer, the insured person's coverage under the
policy versions in force, this year's totals, the ledger accounts and their balances, and the
personal-account mirror (the platform's balance from 1101, R-PAY-01)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters.insurance import InsurancePlatform
from medcard.errors import present
from medcard.insurance.repository import InsuranceRepository
from medcard.kit.clock import CHINA
from medcard.kit.ids import new_id
from medcard.kit.money import fen_from_yuan
from medcard.ledger import service as ledger
from medcard.ledger.repository import LedgerRepository
from medcard.ledger.rules import AccountState, Leg
from medcard.models import Account, Card, Hospital, InsuranceBinding, Person
from medcard.policy import service as policy
from medcard.settlement import rules
from medcard.settlement.repository import SettlementRepository


@dataclass(frozen=True)
class Payer:
    """Who pays a bill: the card's holder at the card's hospital, through the card's account."""

    account: Account
    card: Card
    person: Person
    hospital: Hospital
    binding: InsuranceBinding | None


@dataclass(frozen=True)
class PayerAccounts:
    """The ledger accounts a payment of this payer may touch, by funding source."""

    ids: dict[str, uuid.UUID]

    def get(self, source: str) -> uuid.UUID | None:
        return self.ids.get(source)


async def payer_of(session: AsyncSession, card: Card) -> Payer:
    account = await session.get(Account, card.account_id)
    person = await session.get(Person, card.person_id)
    hospital = await SettlementRepository(session).hospital(card.hospital_id)
    account, person = present(account, "account"), present(person, "person")
    hospital = present(hospital, "hospital")
    binding = await InsuranceRepository(session).active_binding_for_card(card)
    return Payer(account, card, person, hospital, binding)


async def coverage_of(session: AsyncSession, payer: Payer, bill: rules.Bill, *, on: date) -> rules.Coverage | None:
    """The insured area's policy for this bill (None when the card has no active binding)."""
    binding = payer.binding
    if binding is None:
        return None
    region = await policy.region_policy(session, binding.insured_region_code, on=on)
    scheme, scheme_version = await policy.scheme_policy(session, binding.scheme_code, on=on)
    repository = InsuranceRepository(session)
    filings = await repository.active_filings(binding, bill.care_region_code)
    return rules.Coverage(
        scheme=scheme,
        region=region.policy,
        policy_version=(
            f"scheme:{scheme.code}@{scheme_version.version};region:{region.version.key}@{region.version.version}"
        ),
        zone_members=await policy.zone_members(session, on=on),
        has_filing=any(f.valid_from <= on <= f.valid_until for f in filings),
        special_disease=bool(await repository.approved_diseases(binding)),
    )


async def year_to_date(session: AsyncSession, payer: Payer, *, visit_type: str, now: datetime) -> rules.YearToDate:
    start = now.astimezone(CHINA).replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    fund, outpatient, deductible = await SettlementRepository(session).year_to_date(
        payer.person.id, since=start, visit_type=visit_type
    )
    return rules.YearToDate(fund_paid_fen=fund, outpatient_fund_paid_fen=outpatient, deductible_paid_fen=deductible)


def specs(payer: Payer, coverage: rules.Coverage | None) -> dict[str, ledger.AccountSpec]:
    hospital = payer.hospital
    found = {
        "deposit": ledger.deposit(hospital.id, payer.person.id),
        "channel": ledger.CHANNEL_CLEARING,
        "hospital": ledger.hospital_receivable(hospital.id),
        "world": ledger.WORLD,
    }
    if hospital.credit_enabled:
        found["credit_line"] = ledger.credit_line(hospital.id, payer.person.id, hospital.credit_limit_fen)
    if payer.binding is not None:
        found["fund"] = ledger.fund_pool(payer.binding.insured_region_code, payer.binding.scheme_code)
        if coverage is None or coverage.scheme.personal_account:
            found["personal_account"] = ledger.personal_account(payer.person.id)
    return found


async def accounts_of(session: AsyncSession, payer: Payer, coverage: rules.Coverage | None) -> PayerAccounts:
    wanted = specs(payer, coverage)
    ids = await ledger.ensure(session, list(wanted.values()))
    return PayerAccounts({source: ids[spec.key] for source, spec in wanted.items()})


OWN_SOURCES = ("personal_account", "deposit", "credit_line", "family_mutual_aid")
"""The accounts with a floor a payment may draw on: the only ones it locks, all in one
id-ordered ``FOR UPDATE`` (ADR 0012). ``family_mutual_aid``: a relative's personal account,
present only when the payer has mutual aid on offer (R-FAM-08) — locked with the payer's own,
never after them."""


async def balances(session: AsyncSession, accounts: PayerAccounts) -> rules.Balances:
    """Available money (balance − holds) of the payer's own sources; a credit line's room."""
    wanted = [i for i in (accounts.get(s) for s in OWN_SOURCES) if i is not None]
    return room(accounts, await LedgerRepository(session).balances(wanted))


async def locked_balances(
    session: AsyncSession, accounts: PayerAccounts
) -> tuple[rules.Balances, dict[uuid.UUID, AccountState]]:
    """:func:`balances` read after locking the payer's own accounts in id order (the order the
    ledger always uses), with the locked states: the funding decided from them is still true
    when the hold is placed — a concurrent payment of the same patient waits instead of
    draining the deposit in between (which would refuse a payment the credit line or self-pay
    could take). The shared floor-less accounts (receivable, clearing, fund pool) are never
    locked here (ADR 0012)."""
    wanted = [i for i in (accounts.get(s) for s in OWN_SOURCES) if i is not None]
    states = await LedgerRepository(session).lock(wanted)
    return room(accounts, states), states


def room(accounts: PayerAccounts, states: dict[uuid.UUID, AccountState]) -> rules.Balances:
    def room(source: str) -> int:
        account_id = accounts.get(source)
        state = states.get(account_id) if account_id is not None else None
        if state is None:
            return 0
        return state.available_fen - (state.floor_fen or 0)

    return rules.Balances(room("personal_account"), room("deposit"), room("credit_line"), room("family_mutual_aid"))


async def sync_personal_account(
    session: AsyncSession,
    payer: Payer,
    accounts: PayerAccounts,
    platform: InsurancePlatform,
    *,
    locked: dict[uuid.UUID, AccountState] | None = None,
) -> bool:
    """Mirror the payer's personal account (:func:`mirror_personal_account`) with every own
    account of his locked in id order first (``locked``: the caller holds them already), as a
    payment locks them: the personal account locked alone would take it out of that order."""
    account_id = accounts.get("personal_account")
    if account_id is None or payer.binding is None:
        return False
    own = [i for i in (accounts.get(s) for s in OWN_SOURCES) if i is not None]
    return await mirror_personal_account(session, payer.person, account_id, accounts.ids["world"], platform,
                                         locked=locked, lock_first=own)  # fmt: skip


async def mirror_personal_account(
    session: AsyncSession,
    person: Person,
    account_id: uuid.UUID,
    world_id: uuid.UUID,
    platform: InsurancePlatform,
    *,
    locked: dict[uuid.UUID, AccountState] | None = None,
    lock_first: Sequence[uuid.UUID] = (),
) -> bool:
    """One person's personal account brought to the platform's balance (1101 ``balc``) with a
    ``mirror`` entry against the world account (also a relative's whose account pays by family
    mutual aid, R-FAM-08); True when it moved. Skipped while holds are open on it: the platform
    may already have moved money those holds will post. The amount is decided from the locked
    row (``locked``, or ``lock_first`` + the account locked here in id order), so two
    concurrent mirrors never apply one change twice."""
    repository = LedgerRepository(session)
    seen = locked[account_id] if locked else (await repository.balances([account_id]))[account_id]
    if seen.held_fen:
        return False
    answer = await platform.person_query(_person_query(person))
    if answer["infcode"] != 0:
        return False
    platform_fen = fen_from_yuan(answer["output"]["insuinfo"][0]["balc"])
    if platform_fen == seen.balance_fen:
        return False
    state = seen if locked else (await repository.lock([*lock_first, account_id]))[account_id]
    delta = platform_fen - state.balance_fen
    if state.held_fen or not delta:
        return False
    legs = [Leg(account_id, delta, "personal_account"), Leg(world_id, -delta, "world")]
    await ledger.post(session, kind="mirror", legs=legs, memo={"source": "1101"})
    return True


def _person_query(person: Person) -> dict[str, Any]:
    data = {"mdtrt_cert_type": "02", "certno": person.document_number, "psn_name": person.name}
    return {"infno": "1101", "msgid": new_id().hex, "input": {"data": data}}
