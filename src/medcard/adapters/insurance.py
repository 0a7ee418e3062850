"""The national medical-insurance platform (国家医保信息平台): person query (交易 1101) and
e-voucher activation (医保电子凭证激活).

Messages follow the platform's envelope: a request ``{"infno", "msgid", "input": {"data": ...}}``
and a response ``{"infcode", "err_msg", "output": ...}`` (``infcode`` 0 = success, -1 =
refused). 1101's output carries ``baseinfo`` and ``insuinfo`` (``insutype``, ``balc``,
``insuplc_admdvs``, ``psn_insu_stas``); the sandbox adds ``cardinfo`` (card number,
generation, bank function) and ``ecinfo`` (offline verification done) which the real
platform returns through its card-service transactions.

The sandbox's synthetic population is a pure function of the resident ID number, so it is
deterministic and as large as the ID space (``population(n)`` lists the first ``n``):

* coordinating region = the ID's city (``110105…`` → Beijing 110000, ``440305…`` → 440300);
* the two sequence digits (ID positions 15–16) pick the case::

      00–39 employee (310)   40–69 resident (390)   70–79 new rural (380)
      80 not insured         81 newly insured today (visible after 2 working days, R-INS-08)
      82 bank function not activated     83 personal data changed, not synced
      84 rare character in the name      85 retired cadre (离休, 340)
      86 public medical (公费医疗, 350)   87 1st-generation card   88 2nd-generation card
      89 offline check not done          90–99 employee

* e-voucher activation needs a live face; an image with ``SANDBOX-LIVE`` passes and
  ``SANDBOX-SPOOF`` fails, anything else passes with the scheme's binding success rate
  (R-INS-04: 91.3 % / 87.6 % / 64.2 %).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from medcard.adapters.sandbox import SandboxBehaviour
from medcard.kit.crypto import sm3_hex

SUCCESS_RATE = {"310": 0.913, "390": 0.876, "380": 0.642}
SPECIAL_CASES = {
    80: "not_insured",
    81: "newly_insured",
    82: "bank_not_activated",
    83: "not_synced",
    84: "rare_character",
    85: "retired_cadre",
    86: "public_medical",
    87: "first_generation",
    88: "second_generation",
    89: "no_offline_check",
}
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"


@dataclass(frozen=True)
class InsuredPerson:
    """What the platform holds about one person (sandbox truth)."""

    document_number: str
    name: str
    case: str
    scheme_code: str | None
    region_code: str
    card_number: str
    card_generation: int
    bank_activated: bool
    offline_verified: bool
    balance_fen: int
    person_number: str


class InsurancePlatform(Protocol):
    """The insurance platform's transactions this system uses."""

    async def person_query(self, message: dict[str, Any]) -> dict[str, Any]: ...

    async def activate_voucher(self, message: dict[str, Any]) -> dict[str, Any]: ...


def region_of(document_number: str) -> str:
    """The coordinating region a resident ID belongs to (municipalities by province)."""
    if document_number[:2] in {"11", "12", "31", "50"}:
        return document_number[:2] + "0000"
    return document_number[:4] + "00"


def valid_id(body17: str) -> str:
    return body17 + CHECK[sum(int(d) * w for d, w in zip(body17, WEIGHTS, strict=True)) % 11]


class SandboxInsurancePlatform:
    """Deterministic stand-in for the national insurance platform."""

    def __init__(self, behaviour: SandboxBehaviour) -> None:
        self.behaviour = behaviour
        self.messages = 0

    def person(self, document_number: str, name: str) -> InsuredPerson:
        """The sandbox truth for a person (tests and the sandbox hint read it)."""
        sequence = int(document_number[14:16]) if document_number[14:16].isdigit() else 0
        case = SPECIAL_CASES.get(sequence, "ordinary")
        scheme: str | None = "310"
        if 40 <= sequence < 70:
            scheme = "390"
        elif 70 <= sequence < 80:
            scheme = "380"
        elif case == "retired_cadre":
            scheme = "340"
        elif case == "public_medical":
            scheme = "350"
        elif case == "not_insured":
            scheme = None
        digest = sm3_hex(f"{self.behaviour.seed}|insured|{document_number}")
        letter = "ABCDEFGHJK"[int(digest[0], 16) % 10]
        generation = 1 if case == "first_generation" else 2 if case == "second_generation" else 3
        stored_name = name
        if case == "rare_character":
            stored_name = name[:-1] + "?"
        elif case == "not_synced":
            stored_name = name + "(旧)"
        return InsuredPerson(
            document_number=document_number,
            name=stored_name,
            case=case,
            scheme_code=scheme,
            region_code=region_of(document_number),
            card_number=letter + str(int(digest[1:13], 16))[-8:].zfill(8),
            card_generation=generation,
            bank_activated=case != "bank_not_activated",
            offline_verified=case != "no_offline_check",
            balance_fen=int(digest[13:18], 16) * 10 if scheme == "310" else 0,
            person_number=region_of(document_number) + digest[18:30].upper(),
        )

    def population(
        self, size: int, *, regions: tuple[str, ...] = ("110105", "310104", "440106", "440305", "510104")
    ) -> Iterator[tuple[str, str]]:
        """``size`` synthetic insured people as (resident ID, name), all regions and cases."""
        surnames = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
        given = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英"
        for index in range(size):
            region = regions[index % len(regions)]
            birth = date(1950 + index % 60, 1 + index % 12, 1 + index % 28)
            body = f"{region}{birth:%Y%m%d}{(index // len(regions)) % 100:02d}{index % 10}"
            name = surnames[index % len(surnames)] + given[(index * 7) % len(given)]
            yield valid_id(body), name

    async def person_query(self, message: dict[str, Any]) -> dict[str, Any]:
        """Transaction 1101: who is this person, which scheme, which region."""
        self.messages += 1
        data = message["input"]["data"]
        await self.behaviour.wait(0.4, data["certno"])
        truth = self.person(data["certno"], data["psn_name"])
        if truth.scheme_code is None:
            return _refused("PERSON_NOT_FOUND", "未查询到参保信息")
        if truth.case == "newly_insured":
            return _refused("PERSON_NOT_SYNCED_YET", "参保信息同步中")
        if truth.name != data["psn_name"]:
            code = "NAME_RARE_CHARACTER" if truth.name.endswith("?") else "PERSON_INFO_MISMATCH"
            return _refused(code, "姓名与参保登记不一致")
        return {
            "infcode": 0,
            "err_msg": None,
            "output": {
                "baseinfo": {"psn_no": truth.person_number, "psn_name": truth.name, "certno": truth.document_number},
                "insuinfo": [
                    {
                        "insutype": truth.scheme_code,
                        "balc": truth.balance_fen / 100,
                        "insuplc_admdvs": truth.region_code,
                        "psn_insu_stas": "1",
                    }
                ],
                "cardinfo": {
                    "card_sn": truth.card_number,
                    "card_gen": truth.card_generation,
                    "bank_func_stas": "1" if truth.bank_activated else "0",
                },
                "ecinfo": {"offline_verified": truth.offline_verified},
            },
        }

    async def activate_voucher(self, message: dict[str, Any]) -> dict[str, Any]:
        """E-voucher activation after a face check; returns the voucher token (``ecToken``)."""
        self.messages += 1
        data = message["input"]["data"]
        face: bytes = data["face_image"]
        await self.behaviour.wait(8.0, data["psn_no"])
        if b"SANDBOX-SPOOF" in face:
            return _refused("FACE_CHECK_FAILED", "人脸核验未通过")
        if b"SANDBOX-LIVE" not in face:
            roll = self.behaviour.chance("voucher", data["psn_no"], sm3_hex(face))
            if roll >= SUCCESS_RATE.get(data["insutype"], 0.9):
                return _refused("FACE_CHECK_FAILED", "人脸核验未通过")
        token = "EC" + sm3_hex(f"{self.behaviour.seed}|ec|{data['psn_no']}")[:30].upper()
        return {"infcode": 0, "err_msg": None, "output": {"ecToken": token}}


def _refused(code: str, message: str) -> dict[str, Any]:
    return {"infcode": -1, "err_msg": message, "output": {"err_code": code}}
