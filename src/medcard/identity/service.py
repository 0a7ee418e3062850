"""Real-name verification (实名认证) and guardianship of children.

A verification session proves one claimed identity by one method (R-ID-02): the identity
authority first checks name and number, then the method. Face liveness allows
``settings.face_attempts_per_session`` attempts (R-ID-03); images go to the authority and
are dropped with the request (R-ID-04): only result, score and provider reference are kept.
Every session keeps its ``failure_code`` so pass rates can be counted (R-OPS-01).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.account.service import require_consent
from medcard.adapters import Adapters
from medcard.adapters.identity import AuthorityResult, DocumentClaim
from medcard.audit.service import Actor, record
from medcard.auth.service import actor_for_account
from medcard.config import Settings
from medcard.errors import NotFound, present
from medcard.family import membership
from medcard.family.repository import FamilyRepository
from medcard.family.rules import OPEN_STATUSES
from medcard.identity import rules
from medcard.identity import sms as sms_codes
from medcard.identity.errors import (
    AccountAlreadyVerified,
    BankCardCheckFailed,
    FaceAttemptsExhausted,
    FaceCheckFailed,
    GuardianIdentityMismatch,
    GuardianNotAdult,
    GuardianNotVerified,
    GuardianshipNotProven,
    IdentityHeldByAnotherAccount,
    InsuranceRecordNotFound,
    MinorNeedsGuardian,
    NameNumberMismatch,
    PhoneNeedsIdentity,
    ReverificationIdentityMismatch,
    ReverificationMethodNotAllowed,
    ReverificationNeedsIdentity,
    VerificationCompleted,
    VerificationExpired,
    VerificationFailed,
    VerificationMethodMismatch,
    WardAlreadyAdded,
    WardIdentityMismatch,
    WardNotMinor,
)
from medcard.identity.repository import IdentityRepository
from medcard.identity.schemas import (
    BankCardConfirm,
    HospitalSettlement,
    IdentityStatus,
    InsuranceConfirm,
    PersonRead,
    SmsConfirm,
    VerificationStart,
    WardCreate,
    WardRead,
)
from medcard.kit.clock import clock
from medcard.kit.crypto import sm3_hex
from medcard.kit.masking import mask_document, mask_name, mask_phone
from medcard.kit.uploads import check_image, read_limited
from medcard.models import Account, Guardianship, Person, SmsCode, VerificationSession

SMS_PURPOSE = "identity"
PHONE_SMS_PURPOSE = "phone"
PHONE_METHODS = ("sms", "bank_card")


async def read_image(upload: object, *, settings: Settings, field: str) -> bytes:
    """The bytes of an uploaded photo after the size (413) and real-type (415) checks."""
    data = await read_limited(upload, max_bytes=settings.max_upload_bytes, field=field)
    check_image(data, max_bytes=settings.max_upload_bytes, field=field)
    return data


def _claim(source: VerificationSession | Person | rules.Document, name: str | None = None) -> DocumentClaim:
    return DocumentClaim(
        document_type=source.document_type,
        document_number=source.document_number,
        name=name if name is not None else getattr(source, "name", ""),
        nationality=source.nationality,
        residence_permit_number=source.residence_permit_number,
    )


def _check_same_person(account: Account, document_type: str, document_number: str, name: str) -> None:
    """A re-verification must prove the identity the account already holds, nobody else's."""
    person = account.person
    if person is None:
        raise ReverificationNeedsIdentity()
    if not rules.same_identity(
        (document_type, document_number, name), (person.document_type, person.document_number, person.name)
    ):
        holder = f"{mask_name(person.name)} {mask_document(person.document_number)}"
        raise ReverificationIdentityMismatch(field="document_number", holder=holder)


async def start(
    session: AsyncSession,
    *,
    account: Account,
    request: VerificationStart,
    settings: Settings,
    return_to: str | None = None,
) -> VerificationSession:
    """Open a verification session for a claimed identity (nothing is written if a rule fails).

    Without a purpose it makes an unverified account real-name. With one (``step_up``,
    ``pin_reset``, ``reactivation``) a verified account re-proves its own identity; ``return_to``
    (a local path only) is where the pages send the patient back once it passes."""
    if request.purpose is None and account.person_id is not None:
        raise AccountAlreadyVerified()
    if request.purpose is None:
        require_consent(account)  # the agreements come before real-name verification
    if request.purpose is not None and account.person_id is None:
        raise ReverificationNeedsIdentity()
    document = rules.parse_document(
        request.document_type,
        request.document_number,
        today=clock.today_in_china(),
        nationality=request.nationality,
        residence_permit_number=request.residence_permit_number,
    )
    if not rules.may_verify_self(document.birth_date, clock.today_in_china()):
        raise MinorNeedsGuardian(field="document_number")
    name = rules.parse_name(request.name)
    phone = rules.parse_phone(request.phone) if request.method in PHONE_METHODS else None
    if request.purpose is not None:
        _check_same_person(account, document.document_type, document.document_number, name)
        phone_on_record = account.person.phone if account.person else None
        if not rules.reverification_method_allowed(request.method, phone, phone_on_record):
            raise ReverificationMethodNotAllowed(field="phone" if request.method == "sms" else "method")
    verification = VerificationSession(
        account_id=account.id,
        method=request.method,
        purpose=request.purpose or "identity",
        return_to=rules.safe_return_path(return_to),
        document_type=document.document_type,
        document_number=document.document_number,
        nationality=document.nationality,
        residence_permit_number=document.residence_permit_number,
        name=name,
        phone=phone,
        max_attempts=settings.face_attempts_per_session if request.method == "face" else 1,
        expires_at=clock.now() + timedelta(minutes=settings.verification_session_minutes),
    )
    session.add(verification)
    await session.flush()
    await record(
        session,
        actor=actor_for_account(account),
        action="identity.session_start",
        subject=verification,
        details={"method": request.method, "document_type": document.document_type, "purpose": verification.purpose},
    )
    return verification


async def get(session: AsyncSession, *, account: Account, verification_id: uuid.UUID) -> VerificationSession:
    """The account's own session; another account's id answers 404."""
    verification = await IdentityRepository(session).verification_of(account, verification_id)
    if verification is None:
        raise NotFound(field="id")
    return verification


async def _open(
    session: AsyncSession, *, account: Account, verification_id: uuid.UUID, method: str, settings: Settings
) -> VerificationSession:
    """Lock a pending session of ``method``; a session past its deadline is closed as expired."""
    verification = await IdentityRepository(session).verification_of(account, verification_id, for_update=True)
    if verification is None:
        raise NotFound(field="id")
    if verification.status == "passed":
        raise VerificationCompleted()
    if verification.status == "failed":
        raise VerificationFailed()
    minutes = settings.verification_session_minutes
    if verification.status == "expired":
        raise VerificationExpired(minutes=minutes)
    if verification.expires_at <= clock.now():
        await _close(session, verification, account, status="expired", failure_code="SESSION_EXPIRED")
        raise VerificationExpired(minutes=minutes, keep_changes=True)
    if verification.method != method:
        raise VerificationMethodMismatch(field="method")
    return verification


async def _close(
    session: AsyncSession, verification: VerificationSession, account: Account, *, status: str, failure_code: str
) -> None:
    verification.status = status
    verification.failure_code = failure_code
    verification.finished_at = clock.now()
    await record(
        session,
        actor=actor_for_account(account),
        action=f"identity.session_{status}",
        subject=verification,
        result="refused",
        details={"method": verification.method, "failure_code": failure_code, "attempts": verification.attempts},
    )


async def _check_name_and_number(
    session: AsyncSession, verification: VerificationSession, account: Account, adapters: Adapters
) -> AuthorityResult:
    """The authority's name + number check, first step of every method; a mismatch ends the session."""
    result = await adapters.identity.check_name_and_number(_claim(verification))
    if not result.passed:
        verification.provider_reference = result.reference
        await _close(
            session, verification, account, status="failed", failure_code=result.error_code or "NAME_NUMBER_MISMATCH"
        )
        raise NameNumberMismatch(field="name", keep_changes=True)
    return result


async def submit_face(
    session: AsyncSession,
    *,
    account: Account,
    verification_id: uuid.UUID,
    image: bytes,
    adapters: Adapters,
    settings: Settings,
) -> VerificationSession:
    """One face-liveness attempt (R-ID-03). The image is passed on and never stored (R-ID-04)."""
    verification = await _open(
        session, account=account, verification_id=verification_id, method="face", settings=settings
    )
    if verification.attempts == 0:
        await _check_name_and_number(session, verification, account, adapters)
    verification.attempts += 1
    result = await adapters.identity.face_liveness(_claim(verification), image, attempt=verification.attempts)
    verification.score = result.score
    verification.provider_reference = result.reference
    if result.passed:
        await _complete(session, verification, account)
        return verification
    verification.failure_code = result.error_code or "FACE_MISMATCH"
    await record(
        session,
        actor=actor_for_account(account),
        action="identity.face_attempt",
        subject=verification,
        result="refused",
        details={"attempt": verification.attempts, "failure_code": verification.failure_code},
    )
    if verification.attempts >= verification.max_attempts:
        await _close(session, verification, account, status="failed", failure_code=verification.failure_code)
        raise FaceAttemptsExhausted(field="image", max_attempts=verification.max_attempts, keep_changes=True)
    raise FaceCheckFailed(
        field="image", attempts_left=verification.max_attempts - verification.attempts, keep_changes=True
    )


async def send_sms_code(
    session: AsyncSession,
    *,
    account: Account,
    verification_id: uuid.UUID,
    client_ip: str,
    adapters: Adapters,
    settings: Settings,
) -> SmsCode:
    """Text a one-time code to the session's phone (R-ID-05 limits apply)."""
    verification = await _open(
        session, account=account, verification_id=verification_id, method="sms", settings=settings
    )
    code = await sms_codes.send_code(
        session,
        phone=present(verification.phone, "verification.phone"),  # start() requires it for sms
        purpose=SMS_PURPOSE,
        client_ip=client_ip,
        actor=actor_for_account(account),
        adapters=adapters,
        settings=settings,
    )
    code.verification_session_id = verification.id
    return code


async def confirm(
    session: AsyncSession,
    *,
    account: Account,
    verification_id: uuid.UUID,
    answer: SmsConfirm | BankCardConfirm | InsuranceConfirm,
    adapters: Adapters,
    settings: Settings,
) -> VerificationSession:
    """Finish an sms, bank-card or insurance session with the method's answer."""
    card_number = rules.parse_bank_card_number(answer.bank_card_number) if isinstance(answer, BankCardConfirm) else ""
    verification = await _open(
        session, account=account, verification_id=verification_id, method=answer.method, settings=settings
    )
    if isinstance(answer, SmsConfirm):
        await sms_codes.check_code(
            session,
            phone=present(verification.phone, "verification.phone"),
            purpose=SMS_PURPOSE,
            code=answer.code,
            actor=actor_for_account(account),
            settings=settings,
        )
    verification.attempts += 1
    result = await _check_name_and_number(session, verification, account, adapters)
    if isinstance(answer, BankCardConfirm):
        result = await adapters.identity.bank_card_four_factor(
            _claim(verification), bank_card_number=card_number, phone=present(verification.phone, "verification.phone")
        )
    elif isinstance(answer, InsuranceConfirm):
        result = await adapters.identity.insurance_record_match(_claim(verification))
    verification.score = result.score
    verification.provider_reference = result.reference
    if not result.passed:
        failure = result.error_code or "METHOD_FAILED"
        await _close(session, verification, account, status="failed", failure_code=failure)
        error = BankCardCheckFailed if isinstance(answer, BankCardConfirm) else InsuranceRecordNotFound
        raise error(field="bank_card_number" if isinstance(answer, BankCardConfirm) else None, keep_changes=True)
    await _complete(session, verification, account)
    return verification


async def _complete(session: AsyncSession, verification: VerificationSession, account: Account) -> None:
    """Passed: create or reuse the Person and make it the account's identity (one account each).
    A re-verification only re-proves the account's own person and changes nothing of it."""
    if verification.purpose != "identity":
        await _complete_reverification(session, verification, account)
        return
    repository = IdentityRepository(session)
    actor = actor_for_account(account)
    now = clock.now()
    try:
        # A concurrent verification of the same new identity collides on a unique key here
        # (person document, or account.person_id); the savepoint keeps this session usable.
        async with session.begin_nested():
            person = await _link_person(session, repository, verification, account)
    except IntegrityError:
        await session.refresh(account)  # the rolled-back savepoint expired it
        person = None
    if person is None:
        await _close(session, verification, account, status="failed", failure_code="IDENTITY_HELD_BY_ANOTHER_ACCOUNT")
        raise IdentityHeldByAnotherAccount(field="document_number", keep_changes=True)
    verification.status = "passed"
    verification.failure_code = None
    verification.finished_at = now
    await record(
        session,
        actor=actor,
        action="identity.session_passed",
        subject=verification,
        details={"method": verification.method, "attempts": verification.attempts, "person_id": str(person.id)},
    )
    await record(session, actor=actor, action="account.verified", subject=account, details=_person_details(person))


async def _complete_reverification(session: AsyncSession, verification: VerificationSession, account: Account) -> None:
    _check_same_person(account, verification.document_type, verification.document_number, verification.name)
    verification.status = "passed"
    verification.failure_code = None
    verification.finished_at = clock.now()
    await record(
        session,
        actor=actor_for_account(account),
        action="identity.session_passed",
        subject=verification,
        details={"method": verification.method, "attempts": verification.attempts, "purpose": verification.purpose},
    )


async def _link_person(
    session: AsyncSession, repository: IdentityRepository, verification: VerificationSession, account: Account
) -> Person | None:
    """Create or reuse the verified Person and attach it to ``account``; None when another account holds it."""
    actor = actor_for_account(account)
    now = clock.now()
    person = await repository.person_by_document(verification.document_type, verification.document_number)
    if person is not None:
        holder = await repository.account_holding(person)
        if holder is not None and holder.id != account.id:
            return None
    else:
        document = rules.parse_document(
            verification.document_type,
            verification.document_number,
            today=clock.today_in_china(),
            nationality=verification.nationality,
            residence_permit_number=verification.residence_permit_number,
        )
        person = await create_person(session, document=document, name=verification.name, actor=actor)
    person.phone = verification.phone or person.phone
    person.verified_at = now
    person.verification_method = verification.method
    account.person = person
    await session.flush()
    return person


async def create_person(
    session: AsyncSession, *, document: rules.Document, name: str, actor: Actor, method: str | None = None
) -> Person:
    """A new person from a checked document (audited). ``method`` marks a person verified on
    creation by someone else's act (a guardian, a family member); a self-verification sets it later."""
    person = Person(
        document_type=document.document_type,
        document_number=document.document_number,
        nationality=document.nationality,
        residence_permit_number=document.residence_permit_number,
        name=name,
        gender=document.gender,
        birth_date=document.birth_date,
        verified_at=clock.now() if method else None,
        verification_method=method,
    )
    session.add(person)
    await session.flush()
    details = _person_details(person) | ({"method": method} if method else {})
    await record(session, actor=actor, action="person.create", subject=person, details=details)
    return person


def _person_details(person: Person) -> dict[str, str]:
    details = {"document_type": person.document_type, "document": mask_document(person.document_number)}
    if person.phone:
        details["phone"] = mask_phone(person.phone)
    return details


async def status(session: AsyncSession, *, account: Account) -> IdentityStatus:
    """The account's real-name status and, per hospital, whether insurance settlement applies (R-ID-08)."""
    person = account.person
    hospitals = await IdentityRepository(session).hospitals() if person is not None else []
    return IdentityStatus(
        verified=person is not None,
        person=PersonRead.of(person) if person is not None else None,
        insurance_settlement=[
            HospitalSettlement(
                hospital_code=hospital.code,
                hospital_name_zh=hospital.name_zh,
                hospital_name_en=hospital.name_en,
                insurance_settlement_available=rules.insurance_settlement_available(
                    person.document_type, hospital.foreigner_insurance
                ),
            )
            for hospital in hospitals
            if person is not None
        ],
    )


async def add_ward(
    session: AsyncSession,
    *,
    account: Account,
    ward: WardCreate,
    proof: bytes,
    adapters: Adapters,
    settings: Settings,
    documents: Mapping[str, bytes] | None = None,
) -> WardRead:
    """Add a child under the account's guardianship (R-ID-07, R-FAM-03).

    The guardian is an adult verified account; under 14 the birth-certificate number is
    mandatory and the guardian's own identity is re-checked with the authority. The child
    becomes one of the account's family members (R-FAM-01's limit applies; a guardian who is not
    a parent also uploads both ID photos and a photo holding his ID, R-FAM-02, and waits for
    staff review); the proof is stored encrypted for that review (``documents`` adds the other
    photos), with its SM3 digest on the guardianship.
    """
    guardian = account.person
    if guardian is None:
        raise GuardianNotVerified()
    today = clock.today_in_china()
    if rules.age_on(guardian.birth_date, today) < rules.ADULT_AGE:
        raise GuardianNotAdult()
    document = rules.parse_document(
        ward.document_type,
        ward.document_number,
        today=today,
        nationality=ward.nationality,
        residence_permit_number=ward.residence_permit_number,
    )
    name = rules.parse_name(ward.name)
    age = rules.age_on(document.birth_date, today)
    if age >= rules.ADULT_AGE:
        raise WardNotMinor(field="document_number")
    certificate = rules.parse_birth_certificate_number(ward.birth_certificate_number, age=age)
    repository = IdentityRepository(session)
    person = await repository.person_by_document(document.document_type, document.document_number)
    guardianship = None if person is None else await repository.guardianship(guardian=guardian, ward=person)
    if person is not None and guardianship is not None:
        member = await FamilyRepository(session).pair(account, person)
        if member is None or member.status in OPEN_STATUSES:
            raise WardAlreadyAdded(field="document_number")
    relation = "child" if ward.relation == "parent" else "guardian"
    uploads = {"relation_proof": proof, **(documents or {})}
    membership.ensure_documents(relation, uploads)
    await membership.ensure_room(session, account=account, today=today)
    result = await _prove_guardianship(
        adapters, guardian, document, name, proof=proof, certificate=certificate, age=age
    )
    actor = actor_for_account(account)
    if person is None:
        person = await create_person(session, document=document, name=name, actor=actor, method="guardian")
    if guardianship is None:
        guardianship = Guardianship(guardian_person_id=guardian.id, ward_person_id=person.id, account_id=account.id)
        session.add(guardianship)
    guardianship.relation = ward.relation
    guardianship.proof_kind = ward.proof_kind
    guardianship.birth_certificate_number = certificate
    guardianship.proof_digest = sm3_hex(proof)
    guardianship.provider_reference = result.reference
    guardianship.verified_at = clock.now()
    await session.flush()
    await record(
        session,
        actor=actor,
        action="identity.ward_add",
        subject=guardianship,
        details={
            "relation": ward.relation,
            "proof_kind": ward.proof_kind,
            "ward": mask_document(person.document_number),
        },
    )
    enrolment = membership.Enrolment(
        relation=relation,
        proof_kind=ward.proof_kind,
        birth_certificate_number=certificate,
        provider_reference=result.reference,
        authority_confirmed=True,
    )
    await membership.enrol(
        session,
        account=account,
        patient=person,
        enrolment=enrolment,
        documents=uploads,
        review_all=settings.family_review_all,
        actor=actor,
    )
    return WardRead.of(guardianship, person, age=age)


def document_claim(document: rules.Document, name: str) -> DocumentClaim:
    """The claim the identity authority checks for ``document`` and ``name``."""
    return _claim(document, name)


async def _prove_guardianship(
    adapters: Adapters,
    guardian: Person,
    document: rules.Document,
    name: str,
    *,
    proof: bytes,
    certificate: str | None,
    age: int,
) -> AuthorityResult:
    ward_claim = _claim(document, name)
    if not (await adapters.identity.check_name_and_number(ward_claim)).passed:
        raise WardIdentityMismatch(field="name")
    guardian_claim = _claim(guardian)
    if age < rules.BIRTH_CERTIFICATE_AGE and not (await adapters.identity.check_name_and_number(guardian_claim)).passed:
        raise GuardianIdentityMismatch()
    result = await adapters.identity.guardianship(
        guardian_claim, ward_claim, proof=proof, birth_certificate_number=certificate
    )
    if not result.passed:
        raise GuardianshipNotProven(field="proof")
    return result


async def wards(session: AsyncSession, *, account: Account) -> list[WardRead]:
    """The children the account added, oldest first."""
    today = clock.today_in_china()
    rows = await IdentityRepository(session).wards_of(account)
    return [
        WardRead.of(guardianship, person, age=rules.age_on(person.birth_date, today)) for guardianship, person in rows
    ]


def _verified_person(account: Account) -> Person:
    if account.person is None or account.person.verified_at is None:
        raise PhoneNeedsIdentity()
    return account.person


async def send_phone_code(
    session: AsyncSession, *, account: Account, phone: str, client_ip: str, adapters: Adapters, settings: Settings
) -> SmsCode:
    """Text a code to the phone a verified patient wants to add (R-ID-05 limits; needed to bind
    the insurance e-voucher, R-INS-01, when the verification method stored no phone)."""
    _verified_person(account)
    number = rules.parse_phone(phone)
    return await sms_codes.send_code(
        session,
        phone=number,
        purpose=PHONE_SMS_PURPOSE,
        client_ip=client_ip,
        actor=actor_for_account(account),
        adapters=adapters,
        settings=settings,
        account=account,
    )


async def pending_phone(session: AsyncSession, *, account: Account) -> str | None:
    """The phone a code was just texted to for confirmation (the page after the send shows it)."""
    sms = await sms_codes.pending_code(session, account=account, purpose=PHONE_SMS_PURPOSE)
    return sms.phone if sms else None


async def confirm_phone(
    session: AsyncSession, *, account: Account, phone: str, code: str, settings: Settings
) -> Person:
    """Make ``phone`` the verified person's phone once the code texted to it is entered."""
    person = _verified_person(account)
    number = rules.parse_phone(phone)
    actor = actor_for_account(account)
    await sms_codes.check_code(
        session, phone=number, purpose=PHONE_SMS_PURPOSE, code=code, actor=actor, settings=settings
    )
    person.phone = number
    await session.flush()
    await record(session, actor=actor, action="person.phone_confirm", subject=person, details=_person_details(person))
    return person
