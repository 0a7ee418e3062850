"""Binding the medical-insurance e-voucher to a health card, unbinding, out-of-region filings
(R-INS-06) and special-disease applications (R-INS-07).

Every refused binding is recorded as a :class:`BindingAttempt` plus an audit row and the
refusal keeps those changes (the dashboard counts them, R-OPS-01)."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters.insurance import InsurancePlatform
from medcard.audit.service import Actor, record
from medcard.auth.service import actor_for_account, actor_for_staff
from medcard.card.rules import staff_sees_card
from medcard.errors import InvalidInput, NotFound
from medcard.i18n import N_, NC_
from medcard.insurance import errors
from medcard.insurance.repository import InsuranceRepository
from medcard.kit.clock import clock
from medcard.kit.crypto import sm3_hex
from medcard.kit.ids import new_id
from medcard.kit.uploads import check_document
from medcard.models import (
    Account,
    BindingAttempt,
    Card,
    DiseaseMaterial,
    InsuranceBinding,
    OutOfRegionFiling,
    SpecialDiseaseApplication,
    StaffUser,
)
from medcard.policy import rules
from medcard.policy import service as policy

SPECIAL_SCHEMES = {"340", "350"}
SCHEME_NAMES = {"310": ("职工医保", "Employee insurance"), "390": ("城乡居民医保", "Resident insurance"),
                "380": ("新农合", "Rural cooperative"), "340": ("离休人员医疗保障", "Retired cadres"),
                "350": ("公费医疗", "Public medical care")}  # fmt: skip


def scheme_names(scheme_code: str) -> tuple[str, str]:
    """The scheme's short name (zh, en) for people; the code itself when unknown."""
    return SCHEME_NAMES.get(scheme_code, (scheme_code, scheme_code))


FILING_DAYS = {"long_term_residence": 365, "temporary": 180, "referral": 90}
SPECIAL_DISEASES: dict[str, tuple[str, str]] = {
    "MT001": ("恶性肿瘤门诊治疗", "Outpatient cancer treatment"),
    "MT002": ("尿毒症透析", "Dialysis for uraemia"),
    "MT003": ("器官移植术后抗排异治疗", "Anti-rejection therapy after transplant"),
    "MT004": ("糖尿病", "Diabetes"),
    "MT005": ("高血压（合并症）", "Hypertension with complications"),
}


@dataclass(frozen=True)
class BindRequest:
    """What the patient entered on the binding form."""

    card_number: str
    scheme: str
    region_code: str
    client_version: str
    face_image: bytes


def mask_card_number(number: str) -> str:
    return number[:1] + "*" * max(len(number) - 3, 0) + number[-2:]


def _age(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


async def bind(
    session: AsyncSession, *, platform: InsurancePlatform, account: Account, card: Card, request: BindRequest
) -> InsuranceBinding:
    """Check prerequisites, query the platform, activate the e-voucher and bind it to ``card``."""
    scheme_code = rules.SCHEME_BY_KEY.get(request.scheme)
    if scheme_code is None:
        raise InvalidInput(field="scheme", label=N_("scheme"), reason=N_("unsupported"))
    try:
        binding = await _bind(session, platform=platform, account=account, card=card, request=request)
    except errors.InsuranceError as error:
        attempt = BindingAttempt(
            account_id=account.id,
            region_code=request.region_code,
            scheme_code=getattr(error, "scheme_code", None),
            result="refused",
            error_code=error.code,
            category=error.category,
        )
        session.add(attempt)
        await record(
            session,
            actor=actor_for_account(account),
            action="insurance.bind",
            subject=attempt,
            result="refused",
            details={"code": error.code, "region": request.region_code},
        )
        error.keep_changes = True
        raise
    session.add(
        BindingAttempt(
            account_id=account.id, region_code=request.region_code, scheme_code=binding.scheme_code, result="ok"
        )
    )
    await record(
        session,
        actor=actor_for_account(account),
        action="insurance.bind",
        subject=binding,
        details={
            "card_number": mask_card_number(binding.insurance_card_number),
            "scheme": binding.scheme_code,
            "policy_version": binding.policy_version.version,
        },
    )
    return binding


def _fail(error: errors.InsuranceError, scheme_code: str | None) -> errors.InsuranceError:
    error.scheme_code = scheme_code  # type: ignore[attr-defined]
    return error


async def _bind(
    session: AsyncSession, *, platform: InsurancePlatform, account: Account, card: Card, request: BindRequest
) -> InsuranceBinding:
    person = account.person
    if person is None or person.verified_at is None:
        raise errors.NotVerified()
    today = clock.now().date()
    subject = card.person
    region = await policy.region_policy(session, request.region_code, on=today)
    facts = rules.BindingFacts(
        age=_age(subject.birth_date, today),
        via_guardian=subject.id != person.id,
        document_type=subject.document_type,
        has_residence_permit=bool(subject.residence_permit_number),
        client_version=request.client_version,
        has_phone=bool(person.phone),
    )
    for code in rules.prerequisite_failures(region.policy, facts):
        raise _prerequisite_error(code, region.policy)
    number = request.card_number.strip().upper()
    if not rules.valid_card_number(number):
        raise errors.InvalidCardNumber(field="card_number")
    if await InsuranceRepository(session).active_binding_for_card(card):
        raise errors.AlreadyBound()
    answer = await platform.person_query(
        {
            "infno": "1101",
            "msgid": new_id().hex,
            "input": {"data": {"mdtrt_cert_type": "02", "certno": subject.document_number, "psn_name": subject.name}},
        }
    )
    if answer["infcode"] != 0:
        raise await _platform_error(session, answer["output"]["err_code"], today)
    output: dict[str, Any] = answer["output"]
    insured = output["insuinfo"][0]
    scheme_code = str(insured["insutype"])
    if scheme_code in SPECIAL_SCHEMES:
        raise _fail(errors.SchemeNotSupported(), scheme_code)
    if output["cardinfo"]["card_sn"] != number:
        raise _fail(errors.InvalidCardNumber(field="card_number"), scheme_code)
    if scheme_code != rules.SCHEME_BY_KEY[request.scheme]:
        raise _fail(errors.InsuranceTypeMismatch(field="scheme"), scheme_code)
    if not rules.same_coordinating_region(insured["insuplc_admdvs"], request.region_code):
        raise _fail(errors.RegionMismatch(field="region_code"), scheme_code)
    platform_facts = rules.PlatformFacts(
        card_generation=int(output["cardinfo"]["card_gen"]),
        bank_activated=output["cardinfo"]["bank_func_stas"] == "1",
        offline_verified=bool(output["ecinfo"]["offline_verified"]),
    )
    for code in rules.platform_failures(region.policy, platform_facts):
        raise _fail(_prerequisite_error(code, region.policy), scheme_code)
    activation = await platform.activate_voucher(
        {
            "infno": "EC01",
            "msgid": new_id().hex,
            "input": {
                "data": {
                    "psn_no": output["baseinfo"]["psn_no"],
                    "insutype": scheme_code,
                    "face_image": request.face_image,
                }
            },
        }
    )
    if activation["infcode"] != 0:
        raise _fail(errors.FaceFailed(field="face_image", keep_changes=True), scheme_code)
    _scheme, scheme_version = await policy.scheme_policy(session, scheme_code, on=today)
    binding = InsuranceBinding(
        card_id=card.id,
        person_id=subject.id,
        account_id=account.id,
        insurance_card_number=number,
        scheme_code=scheme_code,
        insured_region_code=insured["insuplc_admdvs"],
        platform_person_number=output["baseinfo"]["psn_no"],
        voucher_token=activation["output"]["ecToken"],
        policy_version_id=region.version.id,
        scheme_policy_version_id=scheme_version.id,
        bound_at=clock.now(),
    )
    binding.policy_version = region.version
    binding.scheme_policy_version = scheme_version
    binding.card = card
    session.add(binding)
    await session.flush()
    return binding


def _prerequisite_error(code: str, region: rules.RegionPolicy) -> errors.InsuranceError:
    cls = errors.CODE_FOR_RULE[code]
    params: dict[str, Any] = {}
    if cls is errors.RegionNotSupported:
        params = {"region": region.name_zh or region.code, "region_en": region.name_en or region.code}
    elif cls is errors.ClientTooOld:
        params = {"minimum": region.min_client_version}
    elif cls in (errors.MinorNeedsGuardian, errors.MinorNotAllowed):
        params = {"age": region.min_age_alone}
    elif cls is errors.CardGenerationTooOld:
        params = {"generation": region.min_card_generation}
    field = {"CLIENT_TOO_OLD": "client_version", "REGION_NOT_SUPPORTED": "region_code"}.get(code)
    return cls(field=field, **params)


async def _platform_error(session: AsyncSession, code: str, today: date) -> errors.InsuranceError:
    if code == "PERSON_NOT_SYNCED_YET":
        try:
            retry_on = rules.add_working_days(today, 2, await policy.calendar(session, on=today))
        except rules.CalendarUnknown:
            retry_on = today + timedelta(days=4)
        return errors.NewlyInsured(retry_on=retry_on.isoformat())
    if code == "NAME_RARE_CHARACTER":
        return errors.RareCharacterName()
    if code == "PERSON_INFO_MISMATCH":
        return errors.InfoNotSynced()
    return errors.NotInsured()


async def unbind(session: AsyncSession, *, account: Account, binding: InsuranceBinding) -> InsuranceBinding:
    """Remove the e-voucher from the card; the record stays with its policy version."""
    if binding.status != "active":
        raise errors.BindingNotActive()
    binding.status = "unbound"
    binding.unbound_at = clock.now()
    await record(
        session,
        actor=actor_for_account(account),
        action="insurance.unbind",
        subject=binding,
    )
    await session.flush()
    return binding


async def card_of(session: AsyncSession, *, account: Account, card_id: uuid.UUID) -> Card:
    card = await InsuranceRepository(session).card_of(account, card_id)
    if card is None:
        raise NotFound()
    return card


async def binding_of(session: AsyncSession, *, account: Account, binding_id: uuid.UUID) -> InsuranceBinding:
    binding = await InsuranceRepository(session).binding_of(account, binding_id)
    if binding is None:
        raise NotFound()
    return binding


async def personal_balance(
    session: AsyncSession, *, account: Account, binding_id: uuid.UUID, platform: InsurancePlatform
) -> int | None:
    """The personal account's balance (个人账户余额, fen) as the platform answers 1101 now, for the
    home page's 医保码 tile on request; None when the platform does not say."""
    return await _balance(await binding_of(session, account=account, binding_id=binding_id), platform)


async def _balance(binding: InsuranceBinding, platform: InsurancePlatform) -> int | None:
    person = binding.card.person
    answer = await platform.person_query(
        {
            "infno": "1101",
            "msgid": new_id().hex,
            "input": {"data": {"mdtrt_cert_type": "02", "certno": person.document_number, "psn_name": person.name}},
        }
    )
    if answer.get("infcode") != 0 or binding.status != "active":
        return None
    return int(Decimal(str(answer["output"]["insuinfo"][0]["balc"])) * 100)


@dataclass(frozen=True)
class VoucherCode:
    """The e-voucher's dynamic code (医保码) as the platform issued it: the QR text, its lifetime,
    and the personal-account balance (fen) when the platform says it."""

    text: str
    valid_seconds: int
    balance_fen: int | None


async def voucher_code(
    session: AsyncSession, *, account: Account, binding_id: uuid.UUID, platform: InsurancePlatform
) -> VoucherCode:
    """Ask the platform for the 医保码 of an active binding (the hospital scans it to settle with
    insurance); the balance comes from 1101 beside it. Nothing is stored: the code lives 60 s."""
    binding = await binding_of(session, account=account, binding_id=binding_id)
    if binding.status != "active":
        raise errors.BindingNotActive()
    answer = await platform.voucher_code(
        {
            "infno": "ecQrCode",
            "msgid": new_id().hex,
            "input": {"data": {"psn_no": binding.platform_person_number, "ecToken": binding.voucher_token}},
        }
    )
    if answer.get("infcode") != 0:
        raise errors.VoucherCodeUnavailable()
    output = answer["output"]
    balance = await _balance(binding, platform)
    return VoucherCode(text=str(output["ecQrCode"]), valid_seconds=int(output["validSeconds"]), balance_fen=balance)


# --- out-of-region filing (R-INS-06) -----------------------------------------------------------


async def file_out_of_region(
    session: AsyncSession, *, account: Account, binding: InsuranceBinding, destination: str, reason: str
) -> OutOfRegionFiling:
    """File for care in ``destination``; refused when the zone makes it unnecessary."""
    if binding.status != "active":
        raise errors.BindingNotActive()
    if reason not in FILING_DAYS:
        raise InvalidInput(field="reason", label=NC_("insurance/service", "reason"), reason=N_("unsupported"))
    today = clock.now().date()
    insured = await policy.region_policy(session, binding.insured_region_code, on=today)
    target = await policy.region_policy(session, destination, on=today)
    zones = await policy.zone_members(session, on=today)
    if not rules.filing_required(insured.policy, destination, zones):
        raise errors.FilingNotNeeded(
            field="destination",
            region=target.policy.name_zh or destination,
            region_en=target.policy.name_en or destination,
        )
    repository = InsuranceRepository(session)
    if await repository.active_filings(binding, destination):
        raise errors.FilingExists(field="destination")
    filing = OutOfRegionFiling(
        binding_id=binding.id,
        account_id=account.id,
        destination_region_code=destination,
        reason=reason,
        valid_from=today,
        valid_until=today + timedelta(days=FILING_DAYS[reason]),
    )
    session.add(filing)
    await record(
        session,
        actor=actor_for_account(account),
        action="insurance.filing.create",
        subject=filing,
        details={"destination": destination, "reason": reason},
    )
    return filing


async def cancel_filing(session: AsyncSession, *, account: Account, filing: OutOfRegionFiling) -> OutOfRegionFiling:
    if filing.status != "active":
        raise errors.FilingNotActive()
    filing.status = "cancelled"
    filing.cancelled_at = clock.now()
    await record(
        session,
        actor=actor_for_account(account),
        action="insurance.filing.cancel",
        subject=filing,
    )
    await session.flush()
    return filing


async def filing_of(session: AsyncSession, *, account: Account, filing_id: uuid.UUID) -> OutOfRegionFiling:
    filing = await InsuranceRepository(session).filing_of(account, filing_id)
    if filing is None:
        raise NotFound()
    return filing


async def fund_settlement_allowed(
    session: AsyncSession, *, binding: InsuranceBinding, care_region_code: str, on: date
) -> bool:
    """May the fund pay for care in ``care_region_code`` on ``on``? Without a needed filing the
    bill is self-pay (R-INS-06). The settlement issue calls this."""
    if binding.status != "active":
        return False
    insured = await policy.region_policy(session, binding.insured_region_code, on=on)
    zones = await policy.zone_members(session, on=on)
    if not rules.filing_required(insured.policy, care_region_code, zones):
        return True
    filings = await InsuranceRepository(session).active_filings(binding, care_region_code)
    return any(f.valid_from <= on <= f.valid_until for f in filings)


# --- special diseases (R-INS-07) ----------------------------------------------------------------


MAX_MATERIALS = 6
"""Files per application: a diagnosis certificate, records and test reports fit."""


async def apply_special_disease(
    session: AsyncSession,
    *,
    account: Account,
    binding: InsuranceBinding,
    disease_code: str,
    files: list[tuple[str, bytes]],
    max_bytes: int,
) -> SpecialDiseaseApplication:
    """Submit the paper materials (PDF or JPEG / PNG scans, each at most ``max_bytes``) for
    review; the files are stored SM4-encrypted for the reviewer, their digests beside them."""
    if binding.status != "active":
        raise errors.BindingNotActive()
    if disease_code not in SPECIAL_DISEASES:
        raise errors.UnknownDisease(field="disease_code")
    if not files or len(files) > MAX_MATERIALS:
        raise errors.MaterialsCount(field="materials", limit=MAX_MATERIALS)
    types = [check_document(content, max_bytes=max_bytes, field="materials") for _name, content in files]
    application = SpecialDiseaseApplication(
        binding_id=binding.id,
        account_id=account.id,
        disease_code=disease_code,
        materials={
            "files": [
                {"name": name[:80], "type": media_type, "sm3": sm3_hex(content), "bytes": len(content)}
                for (name, content), media_type in zip(files, types, strict=True)
            ]
        },
    )
    application.binding = binding
    session.add(application)
    await session.flush()
    for position, ((_name, content), media_type) in enumerate(zip(files, types, strict=True)):
        material = DiseaseMaterial(
            application_id=application.id,
            position=position,
            content_type=media_type,
            digest=sm3_hex(content),
            data=base64.b64encode(content).decode(),
        )
        session.add(material)
    await record(
        session,
        actor=actor_for_account(account),
        action="insurance.special_disease.apply",
        subject=application,
        details={"files": len(files)},  # the diagnosis stays in its encrypted column, never in the log
    )
    return application


async def review_special_disease(
    session: AsyncSession,
    *,
    staff: StaffUser,
    actor: Actor,
    application: SpecialDiseaseApplication,
    approve: bool,
    note: str,
) -> SpecialDiseaseApplication:
    """A reviewer approves or rejects; approved diseases get the higher ratio at settlement."""
    if application.status != "submitted":
        raise errors.ApplicationAlreadyReviewed()
    application.status = "approved" if approve else "rejected"
    application.reviewer_id = staff.id
    application.reviewed_at = clock.now()
    application.review_note = note[:200]
    await record(
        session,
        actor=actor,
        action="insurance.special_disease.review",
        subject=application,
        result=application.status,
    )
    await session.flush()
    return application


async def application_for_staff(
    session: AsyncSession, *, staff: StaffUser, application_id: uuid.UUID
) -> SpecialDiseaseApplication:
    """The application if ``staff`` may review it: cards of his hospital, or all for platform
    staff (R-CARD-05); another hospital's application answers like a missing one."""
    application = await InsuranceRepository(session).application(application_id)
    if application is None or not staff_sees_card(
        staff_hospital_id=staff.hospital_id, card_hospital_id=application.binding.card.hospital_id
    ):
        raise NotFound()
    return application


async def review_queue(session: AsyncSession, *, staff: StaffUser) -> list[SpecialDiseaseApplication]:
    """The applications ``staff`` reviews (his hospital's; all for platform staff)."""
    return list(await InsuranceRepository(session).review_queue(staff.hospital_id))


@dataclass(frozen=True)
class Material:
    """One paper material as the reviewer's browser gets it."""

    content_type: str
    filename: str
    data: bytes


async def material_for_review(
    session: AsyncSession, *, staff: StaffUser, application_id: uuid.UUID, position: int
) -> Material:
    """An uploaded material, decrypted for a reviewer of the application's hospital; each look is
    audited (which file, never its name or the diagnosis)."""
    application = await application_for_staff(session, staff=staff, application_id=application_id)
    material = await InsuranceRepository(session).material(application, position)
    if material is None:
        raise NotFound()
    await record(
        session,
        actor=actor_for_staff(staff),
        action="insurance.special_disease.material_view",
        subject=application,
        details={"position": position, "sm3": material.digest},
    )
    extension = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}[material.content_type]
    filename = f"material-{position + 1}.{extension}"
    return Material(material.content_type, filename, base64.b64decode(material.data))


# --- dashboard (R-OPS-01) -----------------------------------------------------------------------


@dataclass(frozen=True)
class SchemeStat:
    scheme_code: str
    attempts: int
    succeeded: int

    @property
    def success_percent(self) -> float:
        return round(100 * self.succeeded / self.attempts, 1) if self.attempts else 0.0


async def dashboard(session: AsyncSession) -> tuple[list[SchemeStat], list[tuple[str, int]]]:
    """Binding success by scheme and failures by category, from the recorded attempts."""
    repository = InsuranceRepository(session)
    totals: dict[str, list[int]] = {}
    for scheme, result, count in await repository.attempts_by_scheme():
        row = totals.setdefault(scheme or "unknown", [0, 0])
        row[0] += count
        if result == "ok":
            row[1] += count
    stats = [SchemeStat(code, attempts, ok) for code, (attempts, ok) in sorted(totals.items())]
    return stats, await repository.failures_by_category()


def decode_image(value: str) -> bytes:
    """A base64 face image from the API (the page uploads bytes directly)."""
    try:
        return base64.b64decode(value, validate=True)
    except ValueError as error:
        raise InvalidInput(field="face_image", label=N_("face image"), reason=N_("not base64")) from error
