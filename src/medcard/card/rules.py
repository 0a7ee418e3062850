"""Pure rules of the electronic health card: the 18 form fields (R-CARD-02), card numbers
(R-CARD-06), the card's scope (R-CARD-05) and what still needs the physical card (R-CARD-11).

No session, no clock: callers pass ``today``.

Card number: 16 digits = the 6-digit GB/T 2260 region code of the issuing hospital,
9 serial digits and one **Luhn** check digit (ISO/IEC 7812-1). Luhn was chosen over ISO 7064
MOD 11-2 because its check digit is always a digit (MOD 11-2 needs an ``X``), so the number
can be typed on any keypad and printed as a barcode; it catches every single-digit error and
every adjacent transposition except ``09``↔``90``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from medcard.i18n import N_, Msg, translate

# --- the 56 official ethnic groups (GB/T 3304-1991: code, zh name, romanised name) --------------


@dataclass(frozen=True)
class Ethnicity:
    """One of the 56 ethnic groups (民族) recognised in China, with its GB/T 3304 code."""

    code: str
    name_zh: str
    name_en: str


_ETHNICITY_ROWS = (
    "汉族 Han|蒙古族 Mongol|回族 Hui|藏族 Zang|维吾尔族 Uygur|苗族 Miao|彝族 Yi|壮族 Zhuang|布依族 Buyei|"
    "朝鲜族 Chosen|满族 Man|侗族 Dong|瑶族 Yao|白族 Bai|土家族 Tujia|哈尼族 Hani|哈萨克族 Kazak|傣族 Dai|"
    "黎族 Li|傈僳族 Lisu|佤族 Va|畲族 She|高山族 Gaoshan|拉祜族 Lahu|水族 Sui|东乡族 Dongxiang|纳西族 Naxi|"
    "景颇族 Jingpo|柯尔克孜族 Kirgiz|土族 Tu|达斡尔族 Daur|仫佬族 Mulao|羌族 Qiang|布朗族 Blang|撒拉族 Salar|"
    "毛南族 Maonan|仡佬族 Gelao|锡伯族 Xibe|阿昌族 Achang|普米族 Pumi|塔吉克族 Tajik|怒族 Nu|乌孜别克族 Uzbek|"
    "俄罗斯族 Russ|鄂温克族 Ewenki|德昂族 Deang|保安族 Bonan|裕固族 Yugur|京族 Gin|塔塔尔族 Tatar|"
    "独龙族 Derung|鄂伦春族 Oroqen|赫哲族 Hezhen|门巴族 Monba|珞巴族 Lhoba|基诺族 Jino"
)
ETHNICITIES: tuple[Ethnicity, ...] = tuple(
    Ethnicity(f"{index:02d}", *row.split(" ")) for index, row in enumerate(_ETHNICITY_ROWS.split("|"), start=1)
)
ETHNICITY_BY_CODE: dict[str, Ethnicity] = {e.code: e for e in ETHNICITIES}


def normalize_ethnicity(text: str) -> str | None:
    """The GB/T 3304 code for a code (``01``), zh name (``汉族`` or ``汉``) or romanised name; else None."""
    value = text.strip()
    if value in ETHNICITY_BY_CODE:
        return value
    for group in ETHNICITIES:
        if value in (group.name_zh, group.name_zh.removesuffix("族")) or value.lower() == group.name_en.lower():
            return group.code
    return None


# --- choice lists: stored value -> (zh, en) ---------------------------------------------------------

Choices = dict[str, Msg]
"""Code → its label, a catalog message (ADR 0013) rendered with ``t()`` / ``translate()``."""

GENDERS: Choices = {"M": N_("Male"), "F": N_("Female")}
DOCUMENT_TYPES: Choices = {
    "resident_id": N_("Resident ID card"),
    "hmt_permit": N_("HK/Macau/Taiwan residence permit"),
    "foreign_passport": N_("Foreign passport"),
}
# GB/T 6565-2015 major groups, plus the people who have no occupation.
OCCUPATIONS: Choices = {
    "manager": N_("Head of an organisation"),
    "professional": N_("Professional or technician"),
    "clerk": N_("Clerk"),
    "service": N_("Service worker"),
    "agriculture": N_("Farming, forestry or fishery"),
    "production": N_("Production worker"),
    "military": N_("Military"),
    "other_worker": N_("Other employed"),
    "student": N_("Student"),
    "child": N_("Preschool child"),
    "retired": N_("Retired"),
    "homemaker": N_("Homemaker"),
    "unemployed": N_("Not employed"),
}
NOT_EMPLOYED = frozenset({"student", "child", "retired", "homemaker", "unemployed"})
# GB/T 2261.2
MARITAL_STATUSES: Choices = {
    "single": N_("Single"),
    "married": N_("Married"),
    "widowed": N_("Widowed"),
    "divorced": N_("Divorced"),
    "unspecified": N_("Not stated"),
}
# GB/T 4658, grouped
EDUCATIONS: Choices = {
    "none": N_("No schooling"),
    "primary": N_("Primary school"),
    "junior": N_("Junior secondary"),
    "senior": N_("Senior secondary / vocational"),
    "college": N_("College"),
    "bachelor": N_("Bachelor"),
    "master": N_("Master"),
    "doctorate": N_("Doctorate"),
}
RELATIONS: Choices = {
    "spouse": N_("Spouse"),
    "parent": N_("Parent"),
    "child": N_("Child"),
    "sibling": N_("Sibling"),
    "grandparent": N_("Grandparent"),
    "relative": N_("Other relative"),
    "guardian": N_("Guardian"),
    "friend": N_("Friend"),
    "other": N_("Other"),
}
BLOOD_TYPES: Choices = {
    "A+": N_("A Rh+"),
    "A-": N_("A Rh-"),
    "B+": N_("B Rh+"),
    "B-": N_("B Rh-"),
    "AB+": N_("AB Rh+"),
    "AB-": N_("AB Rh-"),
    "O+": N_("O Rh+"),
    "O-": N_("O Rh-"),
}
# GB/T 2260 province-level prefixes (the full county table is the region service's job).
PROVINCES: dict[str, str] = {
    "11": "北京",
    "12": "天津",
    "13": "河北",
    "14": "山西",
    "15": "内蒙古",
    "21": "辽宁",
    "22": "吉林",
    "23": "黑龙江",
    "31": "上海",
    "32": "江苏",
    "33": "浙江",
    "34": "安徽",
    "35": "福建",
    "36": "江西",
    "37": "山东",
    "41": "河南",
    "42": "湖北",
    "43": "湖南",
    "44": "广东",
    "45": "广西",
    "46": "海南",
    "50": "重庆",
    "51": "四川",
    "52": "贵州",
    "53": "云南",
    "54": "西藏",
    "61": "陕西",
    "62": "甘肃",
    "63": "青海",
    "64": "宁夏",
    "65": "新疆",
    "71": "台湾",
    "81": "香港",
    "82": "澳门",
}

# --- the form ------------------------------------------------------------------------------------

IDENTITY_FIELDS = ("name", "gender", "birth_date", "document_type", "document_number", "nationality")
"""Taken from the verified person; the form must agree with them."""
BASIC_FIELDS = (
    *IDENTITY_FIELDS,
    "ethnicity",
    "phone",
    "region_code",
    "address",
    "postal_code",
    "occupation",
    "employer",
    "marital_status",
    "education",
    "emergency_name",
    "emergency_phone",
    "emergency_relation",
)
"""The 18 basic fields of R-CARD-02, in form order."""
OPTIONAL_FIELDS = ("allergy_history", "blood_type")
ALL_FIELDS = (*BASIC_FIELDS, *OPTIONAL_FIELDS)
STAFF_ONLY_FIELDS = ("document_number", "phone")
"""R-CARD-03: after submission only staff change these, with a reason."""
PERSONAL_FIELDS = tuple(f for f in ALL_FIELDS if f not in IDENTITY_FIELDS and f not in STAFF_ONLY_FIELDS)
"""What the patient may update on an issued card (each update issues a new QR, R-CARD-07)."""
MAY_BE_EMPTY = frozenset({"employer", *OPTIONAL_FIELDS})

FIELD_LABELS: dict[str, Msg] = {
    "name": N_("name"),
    "gender": N_("gender"),
    "ethnicity": N_("ethnicity"),
    "birth_date": N_("date of birth"),
    "document_type": N_("document type"),
    "document_number": N_("document number"),
    "nationality": N_("nationality"),
    "phone": N_("mobile number"),
    "region_code": N_("home region"),
    "address": N_("address"),
    "postal_code": N_("postal code"),
    "occupation": N_("occupation"),
    "employer": N_("employer"),
    "marital_status": N_("marital status"),
    "education": N_("education"),
    "emergency_name": N_("emergency contact name"),
    "emergency_phone": N_("emergency contact phone"),
    "emergency_relation": N_("relation to emergency contact"),
    "allergy_history": N_("allergy history"),
    "blood_type": N_("blood type"),
    "hospital": N_("hospital"),
    "subject": N_("patient"),
    "photo": N_("ID photo"),
    "card_number": N_("card number"),
    "reason": N_("reason"),
    "code": N_("code"),
}
CHOICES_BY_FIELD: dict[str, Choices] = {
    "gender": GENDERS,
    "document_type": DOCUMENT_TYPES,
    "occupation": OCCUPATIONS,
    "marital_status": MARITAL_STATUSES,
    "education": EDUCATIONS,
    "emergency_relation": RELATIONS,
    "blood_type": BLOOD_TYPES,
}
MAX_LENGTHS: dict[str, int] = {
    "name": 64,
    "address": 200,
    "employer": 100,
    "emergency_name": 64,
    "allergy_history": 500,
}

MOBILE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")
SIX_DIGITS = re.compile(r"^\d{6}$")
NATIONALITY = re.compile(r"^[A-Z]{3}$")
PERSON_NAME = re.compile(r"^[\u3400-\u9fff\U00020000-\U0003134fA-Za-z·.\-' ]+$")
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


@dataclass(frozen=True)
class FieldProblem:
    """Why one field is refused, in both languages."""

    field: str
    reason: Msg
    """A catalog message (ADR 0013); ``params`` fill its ``{}`` placeholders."""
    params: tuple[tuple[str, Any], ...] = ()

    def text(self, lang: str) -> str:
        """The reason in page language ``lang``."""
        return translate(lang, self.reason, **dict(self.params))

    @property
    def reason_zh(self) -> str:
        return self.text("zh")

    @property
    def reason_en(self) -> str:
        return self.text("en")


Cleaned = tuple[str, FieldProblem | None]


def _problem(field: str, reason: Msg, **params: Any) -> FieldProblem:
    return FieldProblem(field, reason, tuple(params.items()))


def resident_id_valid(number: str) -> bool:
    """GB 11643: 17 digits and a check digit (also HK/Macau/Taiwan residence permits 81/82/83)."""
    if not re.fullmatch(r"\d{17}[\dX]", number):
        return False
    return ID_CHECK[sum(int(d) * w for d, w in zip(number[:17], ID_WEIGHTS, strict=True)) % 11] == number[17]


def _clean_date(field: str, value: str, today: date) -> Cleaned:
    try:
        born = date.fromisoformat(value)
    except ValueError:
        return value, _problem(field, N_("use YYYY-MM-DD, e.g. 1990-03-07"))
    if born > today:
        return value, _problem(field, N_("cannot be in the future"))
    if born.year < 1900:
        return value, _problem(field, N_("cannot be before 1900"))
    return born.isoformat(), None


def _clean_phone(field: str, value: str, *, landline_ok: bool) -> Cleaned:
    digits = value.replace(" ", "").removeprefix("+86")
    if MOBILE.match(digits) or (landline_ok and LANDLINE.match(digits)):
        return digits, None
    if landline_ok:
        return value, _problem(field, N_("enter an 11-digit mobile or a landline with area code"))
    return value, _problem(field, N_("enter an 11-digit mainland mobile number"))


def _clean_document_number(value: str, document_type: str | None) -> Cleaned:
    number = value.upper().replace(" ", "")
    if document_type in (None, "resident_id", "hmt_permit") and len(number) == 18 and number[:17].isdigit():
        if not resident_id_valid(number):
            return number, _problem("document_number", N_("the check digit is wrong"))
        return number, None
    if document_type == "foreign_passport" and re.fullmatch(r"[A-Z0-9]{5,20}", number):
        return number, None
    return number, _problem("document_number", N_("malformed (a resident ID has 18 characters)"))


def clean_field(field: str, raw: str, *, today: date, document_type: str | None = None) -> Cleaned:
    """Normalise one field's text and say what is wrong with it, if anything.

    An empty value is not judged here (see :func:`validate_form` for required fields).
    """
    value = raw.strip()
    if not value:
        return "", None
    limit = MAX_LENGTHS.get(field)
    if limit is not None and len(value) > limit:
        return value, _problem(field, N_("at most {limit} characters"), limit=limit)
    if field in CHOICES_BY_FIELD:
        normalized = value.upper() if field in ("gender", "blood_type") else value
        if normalized not in CHOICES_BY_FIELD[field]:
            return value, _problem(field, N_("choose one of the listed values"))
        return normalized, None
    if field == "ethnicity":
        code = normalize_ethnicity(value)
        if code is None:
            return value, _problem(field, N_("choose one of the 56 ethnic groups"))
        return code, None
    if field == "birth_date":
        return _clean_date(field, value, today)
    if field in ("phone", "emergency_phone"):
        return _clean_phone(field, value, landline_ok=field == "emergency_phone")
    if field == "document_number":
        return _clean_document_number(value, document_type)
    if field in ("name", "emergency_name") and not PERSON_NAME.match(value):
        return value, _problem(field, N_("letters and the middle dot only"))
    if field == "nationality" and not NATIONALITY.match(value.upper()):
        return value, _problem(field, N_("a 3-letter country code, e.g. CHN"))
    if field == "nationality":
        return value.upper(), None
    if field == "region_code":
        if not SIX_DIGITS.match(value) or value[:2] not in PROVINCES:
            return value, _problem(field, N_("a 6-digit GB/T 2260 code, e.g. 110101"))
        return value, None
    if field == "postal_code" and not SIX_DIGITS.match(value):
        return value, _problem(field, N_("a 6-digit postal code"))
    if field == "address" and len(value) < 5:
        return value, _problem(field, N_("give the full address down to the house number"))
    return value, None


def clean_fields(
    raw: Mapping[str, str], *, today: date, document_type: str | None = None
) -> tuple[dict[str, str], list[FieldProblem]]:
    """Clean every given field; unknown names are problems too."""
    cleaned: dict[str, str] = {}
    problems: list[FieldProblem] = []
    for field, text in raw.items():
        if field not in ALL_FIELDS:
            problems.append(_problem(field, N_("not a field of the form")))
            continue
        value, problem = clean_field(field, text, today=today, document_type=document_type)
        cleaned[field] = value
        if problem is not None:
            problems.append(problem)
    return cleaned, _in_form_order(problems)


def _in_form_order(problems: list[FieldProblem]) -> list[FieldProblem]:
    order = {f: i for i, f in enumerate(ALL_FIELDS)}
    return sorted(problems, key=lambda p: order.get(p.field, len(order)))


def validate_form(raw: Mapping[str, str], *, today: date) -> tuple[dict[str, str], list[FieldProblem]]:
    """The whole form: every field cleaned, required ones present, cross-field rules held."""
    known = {f: raw.get(f, "") for f in ALL_FIELDS}
    form, problems = clean_fields(known, today=today, document_type=raw.get("document_type") or None)
    problems += [
        _problem(f, N_("required"))
        for f in BASIC_FIELDS
        if not form[f] and f not in MAY_BE_EMPTY and not (f == "ethnicity" and form["nationality"] not in ("", "CHN"))
    ]
    if form["occupation"] and form["occupation"] not in NOT_EMPLOYED and not form["employer"]:
        problems.append(_problem("employer", N_("required for employed people")))
    if form["phone"] and form["phone"] == form["emergency_phone"]:
        problems.append(_problem("emergency_phone", N_("must differ from the patient's own number")))
    return form, _in_form_order(problems)


@dataclass(frozen=True)
class IdentityFacts:
    """What the real-name verification proved about a person."""

    name: str
    gender: str
    birth_date: date
    document_type: str
    document_number: str
    nationality: str

    def as_fields(self) -> dict[str, str]:
        return {
            "name": self.name,
            "gender": self.gender,
            "birth_date": self.birth_date.isoformat(),
            "document_type": self.document_type,
            "document_number": self.document_number,
            "nationality": self.nationality,
        }


def identity_mismatches(form: Mapping[str, str], identity: IdentityFacts) -> list[str]:
    """The identity fields in ``form`` (non-empty) that differ from the verified identity."""
    facts = identity.as_fields()
    return [f for f in IDENTITY_FIELDS if form.get(f) and form[f] != facts[f]]


# --- card numbers (R-CARD-06) --------------------------------------------------------------------

CARD_NUMBER_LENGTH = 16
SERIAL_DIGITS = 9


def luhn_check_digit(body: str) -> str:
    """The Luhn digit that makes ``body + digit`` pass :func:`luhn_valid`."""
    total = 0
    for index, char in enumerate(reversed(body)):
        digit = int(char)
        if index % 2 == 0:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return str(-total % 10)


def luhn_valid(number: str) -> bool:
    return number.isdigit() and luhn_check_digit(number[:-1]) == number[-1]


def make_card_number(region_code: str, serial: int) -> str:
    """``region_code`` (6 digits) + ``serial`` (9 digits, zero-padded) + Luhn check digit."""
    if not SIX_DIGITS.match(region_code) or not 0 <= serial < 10**SERIAL_DIGITS:
        raise ValueError("region code must be 6 digits and serial 0..999999999")
    body = f"{region_code}{serial:0{SERIAL_DIGITS}d}"
    return body + luhn_check_digit(body)


def normalize_card_number(text: str) -> str:
    """Drop the spaces and hyphens people type between digit groups."""
    return re.sub(r"[\s-]", "", text)


def card_number_valid(text: str) -> bool:
    """True for a well-formed number whose check digit holds (a mistyped number fails)."""
    number = normalize_card_number(text)
    return len(number) == CARD_NUMBER_LENGTH and luhn_valid(number)


def format_card_number(number: str) -> str:
    """``1101010000000012`` → ``1101 0100 0000 0012`` for reading aloud and printing."""
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


# --- scope (R-CARD-05) ---------------------------------------------------------------------------


def card_scope(*, hospital_code: str, region_code: str, region_card_scope: str) -> str:
    """``H:<hospital>`` or, on a regional platform, ``R:<region>``: one card per person per scope."""
    return f"R:{region_code}" if region_card_scope == "region" else f"H:{hospital_code}"


def staff_sees_card(*, staff_hospital_id: uuid.UUID | None, card_hospital_id: uuid.UUID) -> bool:
    """R-CARD-05: staff act only on cards of their hospital; platform staff (no hospital) on all."""
    return staff_hospital_id is None or staff_hospital_id == card_hospital_id


# --- what still needs the physical card (R-CARD-11) ----------------------------------------------

PHYSICAL_CARD_SERVICES: Choices = {
    "print_records": N_("Printing medical records and reports"),
    "special_exam_registration": N_("Special exam registration (e.g. MRI)"),
    "print_insurance_fee_list": N_("Printing the insurance fee list"),
}


def needs_physical_card(service: str) -> bool:
    """Whether ``service`` still asks for the physical card (the e-card is enough elsewhere)."""
    return service in PHYSICAL_CARD_SERVICES


# --- statuses ------------------------------------------------------------------------------------

STATUS_LABELS: Choices = {
    "pending_activation": N_("pending activation"),
    "active": N_("active"),
    "frozen": N_("frozen"),
    "cancelled": N_("cancelled"),
}
