"""The national medical-insurance platform (国家医保信息平台): person query (交易 1101) and
e-voucher activation (医保电子凭证激活) and the e-voucher's dynamic code (医保码).

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
      84 rare character in the name      85 retired cadre (离休，340)
      86 public medical (公费医疗，350)   87 1st-generation card   88 2nd-generation card
      89 offline check not done          90–99 employee

* e-voucher activation needs a live face; an image with ``SANDBOX-LIVE`` passes and
  ``SANDBOX-SPOOF`` fails, anything else passes with the scheme's binding success rate
  (R-INS-04: 91.3 % / 87.6 % / 64.2 %);
* the 医保码 of an activated voucher is a fresh ``ECQR…`` text on every request, valid 60 s.

Mobile payment (医保移动支付，module :mod:`medcard.adapters.insurance_payment` for the typed
edge in fen): **6201** uploads the fee items of a visit ⇒ ``payOrdId`` + ``payToken``;
**6202** settles the order with the shares MedCard computed (pooled fund, personal account,
family mutual aid), the platform checking and moving the personal-account balance; **6301**
queries an order whose outcome is unknown; **6203** refunds (all or part of each insurance
line, never more than settled); **6401** revokes an upload that was never settled; **3202**
lists a day's settlements and refunds for reconciliation. The
platform's messages carry yuan strings; ``ordStas`` is ``1`` uploaded, ``6`` settled,
``7`` insurance fully refunded, ``11`` partly refunded, ``12`` revoked. The sandbox keeps
each person's personal-account balance (``balc`` in 1101 starts from the synthetic truth and
follows every settlement and refund) and may lose the answer of a 6202 / 6203 that it has
applied (``SandboxFaults``): the caller queries with 6301, never settles twice blindly.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NoReturn, Protocol

from medcard.adapters.sandbox import SandboxBehaviour, SandboxFaults
from medcard.kit.clock import CHINA, clock
from medcard.kit.crypto import sm3_hex
from medcard.kit.money import fen_from_yuan, yuan_text

VOUCHER_CODE_SECONDS = 60
"""How long a 医保码 the platform issues stays valid (the national app refreshes it every minute)."""
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

    async def voucher_code(self, message: dict[str, Any]) -> dict[str, Any]: ...

    async def upload_fees(self, message: dict[str, Any]) -> dict[str, Any]: ...

    async def settle(self, message: dict[str, Any]) -> dict[str, Any]: ...

    async def query_order(self, message: dict[str, Any]) -> dict[str, Any]: ...

    async def refund(self, message: dict[str, Any]) -> dict[str, Any]: ...

    async def revoke_upload(self, message: dict[str, Any]) -> dict[str, Any]: ...

    async def statement(self, message: dict[str, Any]) -> dict[str, Any]: ...


class InsuranceTimeout(Exception):
    """The platform did not answer a 6202 / 6203 in time: the outcome is unknown (query 6301)."""

    def __init__(self, infno: str, pay_order_id: str) -> None:
        self.infno = infno
        self.pay_order_id = pay_order_id
        super().__init__(f"insurance {infno} timed out for {pay_order_id}")


@dataclass
class _PaymentOrder:
    """One mobile-payment order on the platform (sandbox state, amounts in fen)."""

    pay_order_id: str
    pay_token: str
    person_number: str
    scheme_code: str
    fee_sum: int
    items: list[dict[str, Any]]
    status: str = "1"
    fund: int = 0
    personal_account: int = 0
    mutual_aid: int = 0
    mutual_aid_person: str | None = None
    deductible: int = 0
    hospital_part: int = 0
    settlement_id: str | None = None
    refunded: dict[str, int] = field(default_factory=lambda: {"fund": 0, "personal_account": 0, "mutual_aid": 0})
    refunds: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def own_pay(self) -> int:
        return self.fee_sum - self.fund - self.personal_account - self.mutual_aid - self.hospital_part


def region_of(document_number: str) -> str:
    """The coordinating region a resident ID belongs to (municipalities by province)."""
    if document_number[:2] in {"11", "12", "31", "50"}:
        return document_number[:2] + "0000"
    return document_number[:4] + "00"


def valid_id(body17: str) -> str:
    return body17 + CHECK[sum(int(d) * w for d, w in zip(body17, WEIGHTS, strict=True)) % 11]


class SandboxInsurancePlatform:
    """Deterministic stand-in for the national insurance platform."""

    def __init__(self, behaviour: SandboxBehaviour, faults: SandboxFaults | None = None) -> None:
        self.behaviour = behaviour
        self.faults = faults or SandboxFaults()
        self.messages = 0
        self.balances: dict[str, int] = {}
        """Personal-account balance per ``psn_no`` once a transaction touched it (fen)."""
        self.orders: dict[str, _PaymentOrder] = {}
        self.settlements = 0
        """6202 settlements actually applied (a test's proof that nothing settled twice)."""
        self._voucher_codes = 0
        self.movements: list[dict[str, Any]] = []
        """Every settlement and refund applied, in the 3202 statement's shape (yuan strings)."""

    def balance(self, person_number: str) -> int:
        """The personal account's balance now (fen); only known once 1101 or 6201 saw the person."""
        return self.balances[person_number]

    def _remember(self, truth: InsuredPerson) -> None:
        self.balances.setdefault(truth.person_number, truth.balance_fen)

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
            stored_name = name + "（旧）"
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
        self._remember(truth)
        return {
            "infcode": 0,
            "err_msg": None,
            "output": {
                "baseinfo": {"psn_no": truth.person_number, "psn_name": truth.name, "certno": truth.document_number},
                "insuinfo": [
                    {
                        "insutype": truth.scheme_code,
                        "balc": self.balances[truth.person_number] / 100,
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

    async def voucher_code(self, message: dict[str, Any]) -> dict[str, Any]:
        """The e-voucher's dynamic code (医保码): the platform issues the QR text for an activated
        voucher (``psn_no`` + its ``ecToken``), valid ``VOUCHER_CODE_SECONDS``; the holder's app
        shows it and fetches a new one when it runs out. A token the platform did not issue, or
        of another person, is refused."""
        self.messages += 1
        data = message["input"]["data"]
        await self.behaviour.wait(0.3, "ecqr", data["psn_no"])
        expected = "EC" + sm3_hex(f"{self.behaviour.seed}|ec|{data['psn_no']}")[:30].upper()
        if data.get("ecToken") != expected:
            return _refused("EC_TOKEN_INVALID", "医保电子凭证未激活或已失效")
        self._voucher_codes += 1
        issued = clock.now()
        code = "ECQR" + sm3_hex(f"{self.behaviour.seed}|ecqr|{expected}|{self._voucher_codes}")[:44].upper()
        expires = issued.timestamp() + VOUCHER_CODE_SECONDS
        return {
            "infcode": 0,
            "err_msg": None,
            "output": {"ecQrCode": code, "validSeconds": VOUCHER_CODE_SECONDS, "expireTime": int(expires)},
        }

    # --- mobile payment: 6201 / 6202 / 6301 / 6203 / 6401 ----------------------------------

    async def upload_fees(self, message: dict[str, Any]) -> dict[str, Any]:
        """6201: the visit's fee items ⇒ ``payOrdId`` and ``payToken`` (the same ``medOrgOrd``
        uploaded again returns the same order while it is unsettled)."""
        self.messages += 1
        data = message["input"]["data"]
        await self.behaviour.wait(0.6, "6201", data["medOrgOrd"])
        truth = self.person(data["idNo"], data["userName"])
        if truth.scheme_code is None or truth.person_number != data["psnNo"]:
            return _refused("PERSON_NOT_FOUND", "未查询到参保信息")
        if not data.get("payAuthNo"):
            return _refused("PAY_AUTH_INVALID", "医保支付授权无效")
        try:
            items = [_fee_item(item) for item in data["feedetail"]]
        except (KeyError, ValueError):
            return _refused("FEE_DETAIL_INVALID", "费用明细格式不正确")
        fee_sum = sum(item["amount"] for item in items)
        if not items or fee_sum <= 0:
            return _refused("FEE_DETAIL_INVALID", "费用明细为空")
        digest = sm3_hex(f"{self.behaviour.seed}|6201|{data['orgCodg']}|{data['medOrgOrd']}")
        pay_order_id = "ORD" + digest[:29].upper()
        existing = self.orders.get(pay_order_id)
        if existing is not None and existing.status != "1":
            return _refused("ORDER_ALREADY_SETTLED", "该订单已结算或已撤销")
        self._remember(truth)
        order = _PaymentOrder(
            pay_order_id=pay_order_id,
            pay_token="TK" + digest[29:59].upper(),
            person_number=truth.person_number,
            scheme_code=truth.scheme_code,
            fee_sum=fee_sum,
            items=items,
        )
        self.orders[pay_order_id] = order
        output = {"payOrdId": order.pay_order_id, "payToken": order.pay_token, "feeSumamt": yuan_text(fee_sum)}
        return {"infcode": 0, "err_msg": None, "output": {**output, "ordStas": order.status}}

    async def settle(self, message: dict[str, Any]) -> dict[str, Any]:
        """6202: settle with the shares MedCard computed; the personal account (and the family
        member's for mutual aid) must hold its share. Settling a settled order with the same
        shares answers the settlement again; other shares are refused."""
        self.messages += 1
        data = message["input"]["data"]
        order = self.orders.get(data["payOrdId"])
        if order is None or order.pay_token != data.get("payToken"):
            return _refused("ORDER_NOT_EXIST", "订单不存在或支付令牌无效")
        await self.behaviour.wait(1.2, "6202", order.pay_order_id)
        try:
            shares = {name: fen_from_yuan(data.get(key, "0")) for name, key in SHARE_KEYS.items()}
        except ValueError:
            return _refused("AMOUNT_INVALID", "金额格式不正确")
        if order.status != "1":
            if order.settlement_id and shares == _shares_of(order):
                return self._settlement(order)
            return _refused("ORDER_ALREADY_SETTLED", "该订单已结算或已撤销")
        refusal = self._check_shares(order, shares, data.get("acctMulaidPsnNo"))
        if refusal:
            return refusal
        timed_out, applied = self._roll("6202", order.pay_order_id)
        if timed_out and not applied:
            await self._time_out("6202", order.pay_order_id)
        self._apply_settlement(order, shares, data.get("acctMulaidPsnNo"))
        if timed_out:
            await self._time_out("6202", order.pay_order_id)
        return self._settlement(order)

    async def query_order(self, message: dict[str, Any]) -> dict[str, Any]:
        """6301: the truth about an order (uploaded, settled, refunded, revoked)."""
        self.messages += 1
        data = message["input"]["data"]
        await self.behaviour.wait(0.3, "6301", data["payOrdId"])
        order = self.orders.get(data["payOrdId"])
        if order is None:
            return _refused("ORDER_NOT_EXIST", "订单不存在")
        return self._settlement(order)

    async def refund(self, message: dict[str, Any]) -> dict[str, Any]:
        """6203: return insurance shares (``refdType`` ``ALL`` or ``PART`` with per-line amounts)
        to the fund and the accounts; never more than settled per line. The same ``appRefdSn``
        answers the refund already made."""
        self.messages += 1
        data = message["input"]["data"]
        order = self.orders.get(data["payOrdId"])
        if order is None or order.settlement_id is None:
            return _refused("ORDER_NOT_SETTLED", "订单未结算，无法退款")
        await self.behaviour.wait(0.8, "6203", data["appRefdSn"])
        done = order.refunds.get(data["appRefdSn"])
        if done is not None:
            return self._refunded(order, data["appRefdSn"], done)
        remaining = {line: settled - order.refunded[line] for line, settled in _lines(order).items()}
        if data.get("refdType", "ALL") == "ALL":
            amounts = remaining
        else:
            try:
                amounts = {line: fen_from_yuan(data.get(key, "0")) for line, key in REFUND_KEYS.items()}
            except ValueError:
                return _refused("AMOUNT_INVALID", "金额格式不正确")
        if any(amounts[line] < 0 or amounts[line] > remaining[line] for line in amounts) or not any(amounts.values()):
            return _refused("REFUND_AMOUNT_EXCEEDED", "退款金额超过可退金额")
        timed_out, applied = self._roll("6203", data["appRefdSn"])
        if timed_out and not applied:
            await self._time_out("6203", order.pay_order_id)
        self._apply_refund(order, data["appRefdSn"], amounts)
        if timed_out:
            await self._time_out("6203", order.pay_order_id)
        return self._refunded(order, data["appRefdSn"], amounts)

    async def revoke_upload(self, message: dict[str, Any]) -> dict[str, Any]:
        """6401: withdraw an uploaded order that was never settled (an expired payment)."""
        self.messages += 1
        data = message["input"]["data"]
        order = self.orders.get(data["payOrdId"])
        await self.behaviour.wait(0.3, "6401", data["payOrdId"])
        if order is None:
            return _refused("ORDER_NOT_EXIST", "订单不存在")
        if order.status not in {"1", "12"}:
            return _refused("ORDER_ALREADY_SETTLED", "订单已结算，请走退款")
        order.status = "12"
        return self._settlement(order)

    async def statement(self, message: dict[str, Any]) -> dict[str, Any]:
        """3202-style detail reconciliation (明细对账): every settlement and refund of one day
        (``stmtDate``, China time), including those whose answer was lost (R-PAY-08)."""
        self.messages += 1
        day = message["input"]["data"]["stmtDate"]
        await self.behaviour.wait(2.0, "3202", day)
        details = [row for row in self.movements if row["setlTime"][:10] == day]
        return {"infcode": 0, "err_msg": None, "output": {"stmtDate": day, "detail": details}}

    def _movement(self, kind: str, order: _PaymentOrder, reference: str | None, amounts: dict[str, int]) -> None:
        self.movements.append(
            {
                "type": kind,
                "payOrdId": order.pay_order_id,
                "setlId": order.settlement_id,
                "appRefdSn": reference,
                "fundPay": yuan_text(amounts["fund"]),
                "psnAcctPay": yuan_text(amounts["personal_account"]),
                "acctMulaidPay": yuan_text(amounts["mutual_aid"]),
                "setlTime": clock.now().astimezone(CHINA).isoformat(),
            }
        )

    def _check_shares(
        self, order: _PaymentOrder, shares: dict[str, int], mutual_aid_person: str | None
    ) -> dict[str, Any] | None:
        if any(amount < 0 for amount in shares.values()):
            return _refused("AMOUNT_INVALID", "金额不能为负")
        covered = shares["fund"] + shares["personal_account"] + shares["mutual_aid"] + shares["hospital_part"]
        if covered > order.fee_sum or shares["deductible"] > order.fee_sum:
            return _refused("AMOUNT_INVALID", "支付金额超过费用总额")
        if shares["personal_account"] > self.balances[order.person_number]:
            return _refused("PSN_ACCT_INSUFFICIENT", "个人账户余额不足")
        if shares["mutual_aid"]:
            if not mutual_aid_person or mutual_aid_person not in self.balances:
                return _refused("MULAID_NOT_AUTHORISED", "未授权家庭共济")
            if shares["mutual_aid"] > self.balances[mutual_aid_person]:
                return _refused("MULAID_ACCT_INSUFFICIENT", "共济账户余额不足")
        return None

    def _apply_settlement(self, order: _PaymentOrder, shares: dict[str, int], mutual_aid_person: str | None) -> None:
        order.fund = shares["fund"]
        order.personal_account = shares["personal_account"]
        order.mutual_aid = shares["mutual_aid"]
        order.mutual_aid_person = mutual_aid_person if shares["mutual_aid"] else None
        order.deductible = shares["deductible"]
        order.hospital_part = shares["hospital_part"]
        self.balances[order.person_number] -= order.personal_account
        if order.mutual_aid_person:
            self.balances[order.mutual_aid_person] -= order.mutual_aid
        order.settlement_id = "SETL" + sm3_hex(f"{self.behaviour.seed}|setl|{order.pay_order_id}")[:28].upper()
        order.status = "6"
        self.settlements += 1
        self._movement("settle", order, None, _lines(order))

    def _apply_refund(self, order: _PaymentOrder, reference: str, amounts: dict[str, int]) -> None:
        for line, amount in amounts.items():
            order.refunded[line] += amount
        self.balances[order.person_number] += amounts["personal_account"]
        if order.mutual_aid_person:
            self.balances[order.mutual_aid_person] += amounts["mutual_aid"]
        order.refunds[reference] = dict(amounts)
        self._movement("refund", order, reference, amounts)
        fully = all(order.refunded[line] == settled for line, settled in _lines(order).items())
        order.status = "7" if fully else "11"

    def _settlement(self, order: _PaymentOrder) -> dict[str, Any]:
        output: dict[str, Any] = {
            "payOrdId": order.pay_order_id,
            "ordStas": order.status,
            "feeSumamt": yuan_text(order.fee_sum),
            "fundPay": yuan_text(order.fund),
            "psnAcctPay": yuan_text(order.personal_account),
            "acctMulaidPay": yuan_text(order.mutual_aid),
            "ownPayAmt": yuan_text(order.own_pay if order.settlement_id else order.fee_sum),
            "hospPartAmt": yuan_text(order.hospital_part),
        }
        if order.settlement_id:
            output["setlinfo"] = {
                "setl_id": order.settlement_id,
                "psn_no": order.person_number,
                "insutype": order.scheme_code,
                "medfee_sumamt": yuan_text(order.fee_sum),
                "hifp_pay": yuan_text(order.fund),
                "acct_pay": yuan_text(order.personal_account),
                "acct_mulaid_pay": yuan_text(order.mutual_aid),
                "psn_cash_pay": yuan_text(order.own_pay),
                "act_pay_dedc": yuan_text(order.deductible),
                "hosp_part_amt": yuan_text(order.hospital_part),
                "balc": yuan_text(self.balances[order.person_number]),
            }
        return {"infcode": 0, "err_msg": None, "output": output}

    def _refunded(self, order: _PaymentOrder, reference: str, amounts: dict[str, int]) -> dict[str, Any]:
        answer = self._settlement(order)
        answer["output"]["refund"] = {
            "appRefdSn": reference,
            "fundRefdAmt": yuan_text(amounts["fund"]),
            "psnAcctRefdAmt": yuan_text(amounts["personal_account"]),
            "acctMulaidRefdAmt": yuan_text(amounts["mutual_aid"]),
            "totlRefdAmt": yuan_text(sum(amounts.values())),
        }
        return answer

    def _roll(self, infno: str, reference: str) -> tuple[bool, bool]:
        timed_out = self.behaviour.chance("timeout", infno, reference) < self.faults.timeout_rate
        applied = self.behaviour.chance("applied", infno, reference) < self.faults.applied_before_timeout_rate
        return timed_out, applied

    async def _time_out(self, infno: str, pay_order_id: str) -> NoReturn:
        await self.behaviour.wait(self.faults.timeout_seconds, "timeout", infno, pay_order_id)
        raise InsuranceTimeout(infno, pay_order_id)


SHARE_KEYS = {
    "fund": "fundPay",
    "personal_account": "psnAcctPay",
    "mutual_aid": "acctMulaidPay",
    "deductible": "actPayDedc",
    "hospital_part": "hospPartAmt",
}
REFUND_KEYS = {"fund": "fundRefdAmt", "personal_account": "psnAcctRefdAmt", "mutual_aid": "acctMulaidRefdAmt"}


def _shares_of(order: _PaymentOrder) -> dict[str, int]:
    return {
        "fund": order.fund,
        "personal_account": order.personal_account,
        "mutual_aid": order.mutual_aid,
        "deductible": order.deductible,
        "hospital_part": order.hospital_part,
    }


def _lines(order: _PaymentOrder) -> dict[str, int]:
    return {"fund": order.fund, "personal_account": order.personal_account, "mutual_aid": order.mutual_aid}


def _fee_item(item: dict[str, Any]) -> dict[str, Any]:
    """One ``feedetail`` row in fen; its ``detItemFeeSumamt`` must equal price × count."""
    price = fen_from_yuan(item["pric"])
    count = int(item["cnt"])
    amount = fen_from_yuan(item["detItemFeeSumamt"])
    if price < 0 or count <= 0 or amount != price * count:
        raise ValueError("fee item amount is not price × count")
    return {
        "sn": str(item["feedetlSn"]),
        "code": str(item["medListCodg"]),
        "price": price,
        "count": count,
        "amount": amount,
    }


def _refused(code: str, message: str) -> dict[str, Any]:
    return {"infcode": -1, "err_msg": message, "output": {"err_code": code}}
