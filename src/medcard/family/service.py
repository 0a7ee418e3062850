"""Family accounts (家庭代办): adding relatives with proof, staff review, ending a relation (by the
holder, the patient aged 16+ or age), switching the current patient, and the audit of every act
of a proxy. Services flush, never commit.

A minor goes through the identity slice's children route (:func:`medcard.identity.service.add_ward`:
birth-certificate number under 14 and the guardian's identity checked by the authority, R-FAM-03);
an adult's name and number are checked with the authority and the relation waits for staff review.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Mapping
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters import Adapters
from medcard.audit.service import Actor, record
from medcard.auth.service import actor_for_account, actor_for_staff
from medcard.config import Settings
from medcard.errors import NotFound, present
from medcard.family import bill, membership, rules
from medcard.family.errors import (
    FamilyDissolveTooYoung,
    FamilyHolderNotAdult,
    FamilyHolderNotVerified,
    FamilyMemberAlreadyAdded,
    FamilyMemberIsSelf,
    FamilyNotPendingReview,
    FamilyPatientIdentityMismatch,
    FamilyProofKindInvalid,
    FamilyRelationEnded,
    FamilyRelationImplausible,
)
from medcard.family.repository import FamilyRepository
from medcard.family.schemas import FamilyMemberCreate, FamilyMemberRead, PatientChoice, ProxyRead
from medcard.i18n import N_
from medcard.identity import rules as identity_rules
from medcard.identity import service as identity_service
from medcard.identity.errors import WardAlreadyAdded
from medcard.identity.repository import IdentityRepository
from medcard.identity.schemas import WardCreate
from medcard.kit.clock import CHINA, clock
from medcard.kit.masking import mask_document, mask_name
from medcard.models import Account, AuthSession, Base, FamilyMember, Person, StaffUser

IMPLAUSIBLE = {
    "minor_relation": N_("a minor can only be added as a child or a ward"),
    "parent_not_older": N_("a parent must be older than you"),
    "child_not_younger": N_("a child must be younger than you"),
}


def _holder(account: Account, today: date) -> Person:
    holder = account.person
    if holder is None or holder.verified_at is None:
        raise FamilyHolderNotVerified()
    if rules.age_on(holder.birth_date, today) < rules.ADULT_AGE:
        raise FamilyHolderNotAdult()
    return holder


async def add_member(
    session: AsyncSession,
    *,
    account: Account,
    claim: FamilyMemberCreate,
    documents: Mapping[str, bytes],
    adapters: Adapters,
    settings: Settings,
) -> FamilyMember:
    """Add a relative the account will act for (R-FAM-01…03): the holder is an adult verified
    account, the relation has a fitting proof (and the guardian's photos, R-FAM-02), the account
    has room (5 patients, the holder included), and the relative's identity is checked."""
    today = clock.today_in_china()
    holder = _holder(account, today)
    document = identity_rules.parse_document(
        claim.document_type,
        claim.document_number,
        today=today,
        nationality=claim.nationality,
        residence_permit_number=claim.residence_permit_number,
    )
    name = identity_rules.parse_name(claim.name)
    if (document.document_type, document.document_number) == (holder.document_type, holder.document_number):
        raise FamilyMemberIsSelf(field="document_number")
    if claim.proof_kind not in rules.RELATION_PROOF_KINDS[claim.relation]:
        raise FamilyProofKindInvalid(field="proof_kind")
    problem = rules.relation_problem(
        claim.relation, holder_birth=holder.birth_date, patient_birth=document.birth_date, today=today
    )
    if problem is not None:
        raise FamilyRelationImplausible(field="relation", reason=IMPLAUSIBLE[problem])
    membership.ensure_documents(claim.relation, documents)
    if rules.age_on(document.birth_date, today) < rules.ADULT_AGE:
        return await _add_minor(
            session,
            account=account,
            claim=claim,
            documents=documents,
            adapters=adapters,
            settings=settings,
            document=document,
        )
    repository = FamilyRepository(session)
    person = await IdentityRepository(session).person_by_document(document.document_type, document.document_number)
    if person is not None:
        member = await repository.pair(account, person)
        if member is not None and member.status in rules.OPEN_STATUSES:
            raise FamilyMemberAlreadyAdded(field="document_number")
        if person.name != name:
            raise FamilyPatientIdentityMismatch(field="name")
    await membership.ensure_room(session, account=account, today=today)
    if not (await adapters.identity.check_name_and_number(identity_service.document_claim(document, name))).passed:
        raise FamilyPatientIdentityMismatch(field="name")
    actor = actor_for_account(account)
    if person is None:
        person = await identity_service.create_person(
            session, document=document, name=name, actor=actor, method="family"
        )
    enrolment = membership.Enrolment(
        relation=claim.relation,
        proof_kind=claim.proof_kind,
        birth_certificate_number=None,
        provider_reference=None,
        authority_confirmed=False,
    )
    return await membership.enrol(
        session,
        account=account,
        patient=person,
        enrolment=enrolment,
        documents=documents,
        review_all=settings.family_review_all,
        actor=actor,
    )


async def _add_minor(
    session: AsyncSession,
    *,
    account: Account,
    claim: FamilyMemberCreate,
    documents: Mapping[str, bytes],
    adapters: Adapters,
    settings: Settings,
    document: identity_rules.Document,
) -> FamilyMember:
    """A child or ward under 18: the identity slice's guardianship route (R-ID-07, R-FAM-03)."""
    ward = WardCreate(
        document_type=claim.document_type,
        document_number=claim.document_number,
        name=claim.name,
        nationality=claim.nationality,
        residence_permit_number=claim.residence_permit_number,
        relation="parent" if claim.relation == "child" else "guardian",
        proof_kind=claim.proof_kind,  # marriage certificates never reach minors
        birth_certificate_number=claim.birth_certificate_number,
    )
    others = {name: data for name, data in documents.items() if name != "relation_proof"}
    try:
        await identity_service.add_ward(
            session,
            account=account,
            ward=ward,
            proof=documents["relation_proof"],
            adapters=adapters,
            settings=settings,
            documents=others,
        )
    except WardAlreadyAdded:
        raise FamilyMemberAlreadyAdded(field="document_number") from None
    person = present(
        await IdentityRepository(session).person_by_document(document.document_type, document.document_number),
        "ward",
    )
    return present(await FamilyRepository(session).pair(account, person), "family_member")


async def members(session: AsyncSession, *, account: Account) -> list[FamilyMemberRead]:
    """The account's family members, oldest first, with the state of each relation."""
    today = clock.today_in_china()
    repository = FamilyRepository(session)
    return [
        FamilyMemberRead.of(member, list(await repository.proofs(member)), today=today)
        for member in await repository.of_account(account)
    ]


async def member_read(session: AsyncSession, member: FamilyMember) -> FamilyMemberRead:
    proofs = list(await FamilyRepository(session).proofs(member))
    return FamilyMemberRead.of(member, proofs, today=clock.today_in_china())


async def _end(session: AsyncSession, member: FamilyMember, *, status: str, by: str, actor: Actor) -> None:
    """End a relation at once: the proxy's access goes with this flush (every card query filters
    on current relations), his sessions stop pointing at the patient, the proof images are erased."""
    if member.status not in rules.OPEN_STATUSES:
        raise FamilyRelationEnded()
    member.status = status
    member.ended_at = clock.now()
    member.ended_by = by
    await membership.purge_proofs(session, member)
    await FamilyRepository(session).forget_current_patient(member.account_id, member.patient_person_id)
    await session.flush()
    await record(session, actor=actor, action=f"family.{status}", subject=member, details={"by": by})


async def remove_member(session: AsyncSession, *, account: Account, member_id: uuid.UUID) -> FamilyMember:
    """The holder stops acting for a relative (or withdraws a binding still under review)."""
    member = await FamilyRepository(session).member(account, member_id, for_update=True)
    if member is None:
        raise NotFound()
    await _end(session, member, status="dissolved", by="holder", actor=actor_for_account(account))
    return member


async def proxies(session: AsyncSession, *, account: Account) -> list[ProxyRead]:
    """The accounts that act for me (or asked to), with whether I may end each (R-FAM-06)."""
    person = account.person
    if person is None:
        return []
    allowed = rules.may_dissolve(person.birth_date, clock.today_in_china())
    rows = await FamilyRepository(session).proxies_of(person)
    return [ProxyRead.of(member, proxy, may_dissolve=allowed) for member, proxy in rows]


async def dissolve_proxy(session: AsyncSession, *, account: Account, member_id: uuid.UUID) -> ProxyRead:
    """The patient, from his own login and aged 16 or over, ends a proxy relationship (R-FAM-06);
    the proxy loses access to his cards in the same transaction."""
    person = account.person
    member = await FamilyRepository(session).by_id(member_id, for_update=True)
    if person is None or member is None or member.patient_person_id != person.id:
        raise NotFound()
    if not rules.may_dissolve(person.birth_date, clock.today_in_china()):
        raise FamilyDissolveTooYoung()
    await _end(session, member, status="dissolved", by="patient", actor=actor_for_account(account))
    proxy = present(await session.get(Account, member.account_id), "account")
    return ProxyRead.of(member, proxy, may_dissolve=True)


# --- staff review ---------------------------------------------------------------------------------


async def pending_reviews(session: AsyncSession) -> list[FamilyMemberRead]:
    repository = FamilyRepository(session)
    today = clock.today_in_china()
    return [
        FamilyMemberRead.of(member, list(await repository.proofs(member)), today=today)
        for member in await repository.pending_review()
    ]


async def review(
    session: AsyncSession, *, staff: StaffUser, member_id: uuid.UUID, approve: bool, note: str
) -> FamilyMember:
    """A reviewer accepts or rejects a binding's proof. A rejection erases every stored image, an
    approval the ID photos and the photo holding the ID (the relation proof stays while it holds)."""
    member = await FamilyRepository(session).by_id(member_id, for_update=True)
    if member is None:
        raise NotFound()
    if member.status != "pending_review":
        raise FamilyNotPendingReview()
    member.reviewed_by_staff_id = staff.id
    member.reviewed_at = clock.now()
    member.review_note = note.strip() or None
    member.status = "active" if approve else "rejected"
    if approve:
        await membership.purge_proofs(session, member, only=membership.PERSONAL_PHOTOS)
    else:
        member.ended_at = clock.now()
        member.ended_by = "staff"
        await membership.purge_proofs(session, member)
    await session.flush()
    await record(
        session,
        actor=actor_for_staff(staff),
        action="family.review",
        subject=member,
        details={"decision": member.status},
    )
    return member


async def proof_image(
    session: AsyncSession, *, staff: StaffUser, member_id: uuid.UUID, document: str
) -> tuple[str, bytes]:
    """A stored proof image for the reviewer (each look is audited); erased images are 404."""
    repository = FamilyRepository(session)
    member = await repository.by_id(member_id)
    proof = None if member is None else await repository.proof(member, document)
    if member is None or proof is None or proof.data is None:
        raise NotFound()
    await record(
        session,
        actor=actor_for_staff(staff),
        action="family.proof_view",
        subject=member,
        details={"document": document},
    )
    return proof.content_type, base64.b64decode(proof.data)


# --- switching patient and acting for one ------------------------------------------------------


async def current_patient(session: AsyncSession, *, account: Account, auth: AuthSession) -> Person:
    """The patient this session acts for: the one chosen with "switch patient" while the relation
    holds, else the holder himself."""
    holder = account.person
    if auth.current_patient_id is not None and (holder is None or auth.current_patient_id != holder.id):
        person = await FamilyRepository(session).current_patient(
            account, auth.current_patient_id, clock.today_in_china()
        )
        if person is not None:
            return person
        auth.current_patient_id = None
        await session.flush()
    if holder is None:
        raise FamilyHolderNotVerified()
    return holder


async def patient_choices(session: AsyncSession, *, account: Account, auth: AuthSession) -> list[PatientChoice]:
    """The holder and the relatives he currently acts for, the session's current one marked."""
    current = await current_patient(session, account=account, auth=auth)
    others = await FamilyRepository(session).current_patients(account, clock.today_in_china())
    people = ([account.person] if account.person else []) + list(others)
    return [PatientChoice.of(person, holder=account.person, current=current) for person in people]


async def switch_patient(
    session: AsyncSession, *, account: Account, auth: AuthSession, person_id: uuid.UUID | None
) -> Person:
    """Make ``person_id`` (``None``: the holder) the session's current patient (切换就诊人)."""
    holder = account.person
    if holder is None:
        raise FamilyHolderNotVerified()
    if person_id is None or person_id == holder.id:
        auth.current_patient_id = None
        await session.flush()
        return holder
    person = await FamilyRepository(session).current_patient(account, person_id, clock.today_in_china())
    if person is None:
        raise NotFound(field="person_id")
    auth.current_patient_id = person.id
    await session.flush()
    await record(
        session,
        actor=actor_for_account(account),
        action="family.switch",
        subject=person,
        details={"patient": mask_document(person.document_number)},
    )
    return person


async def note_proxy_access(
    session: AsyncSession, *, account: Account, patient_id: uuid.UUID, subject: Base, what: str
) -> None:
    """Every act of a proxy on a relative's data leaves an audit row (``family.proxy_access``)."""
    if patient_id != account.person_id:
        await record(
            session,
            actor=actor_for_account(account),
            action="family.proxy_access",
            subject=subject,
            details={"what": what, "patient_id": str(patient_id)},
        )


# --- notifications (R-FAM-05) and the relation's end by age -----------------------------------


async def report_recipient(session: AsyncSession, *, patient: Person) -> Account | None:
    """The one account an exam report of ``patient`` is pushed to (R-FAM-05): the main account
    when someone acts for him, else his own. The report service (R-SVC-02) addresses through this."""
    repository = FamilyRepository(session)
    own = await repository.account_of_person(patient)
    current = await repository.current_proxies_of(patient, clock.today_in_china())
    chosen = rules.report_recipient(
        own.id if own else None, [rules.Proxy(member.account_id, member.created_at) for member in current]
    )
    if chosen is None:
        return None
    return own if own is not None and own.id == chosen else await session.get(Account, chosen)


async def expire_relations(session: AsyncSession) -> int:
    """Write down relations that ended by age (a child turned 18): access already stopped on that
    day through the queries; this erases the proofs and resets sessions. Returns how many."""
    due = await FamilyRepository(session).due_to_expire(clock.today_in_china())
    for member in due:
        await _end(session, member, status="expired", by="age", actor=Actor.system("family.expire"))
    return len(due)


# --- monthly family bill (R-FAM-07) ---------------------------------------------------------------


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """The month's first instant and the next month's, in China time."""
    start = datetime(month.year, month.month, 1, tzinfo=CHINA)
    following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return start, datetime(following.year, following.month, 1, tzinfo=CHINA)


async def _bill_orders(session: AsyncSession, account: Account, month: date) -> list[bill.Order]:
    start, end = month_bounds(month)
    rows = await FamilyRepository(session).paid_orders(account, start, end, clock.today_in_china())
    return [
        bill.Order(
            member=mask_name(person.name),
            category=order.bill_kind,
            funding={k: int(v) for k, v in order.funding.items()},
            refunded={k: int(v) for k, v in (order.refunded or {}).items()},
            items=tuple((str(item["name"]), int(item["amount_fen"])) for item in order.items),
        )
        for order, person in rows
    ]


async def family_bill(session: AsyncSession, *, account: Account, month: date) -> bill.FamilyBill:
    """The monthly family bill (亲情账单): the holder's and his current relatives' paid orders of
    ``month`` by member, category and source, with last month's total for the trend (R-FAM-07)."""
    previous = (month.replace(day=1) - timedelta(days=1)).replace(day=1)
    last = bill.monthly_bill(await _bill_orders(session, account, previous))
    return bill.monthly_bill(await _bill_orders(session, account, month), last_month_fen=last.total_fen)
