"""The insurance platform's mobile payment (医保移动支付) as MedCard uses it: integer fen in,
integer fen out. This is the edge where fen become the platform's yuan strings and back.

Flow: :meth:`MobilePayment.upload` (6201) ⇒ :meth:`MobilePayment.settle` (6202) with the
shares MedCard's rules computed; on :class:`~medcard.adapters.insurance.InsuranceTimeout` call
:meth:`MobilePayment.query` (6301), never ``settle`` again blindly (a repeated 6202 with the
same shares is answered with the same settlement, other shares are refused). Refunds go
through :meth:`MobilePayment.refund` (6203); an upload never settled is withdrawn with
:meth:`MobilePayment.revoke` (6401); :meth:`MobilePayment.statement` (3202) lists a day's
settlements and refunds for the reconciliation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from medcard.adapters.insurance import InsurancePlatform, InsuranceTimeout
from medcard.kit.ids import new_id
from medcard.kit.money import fen_from_yuan, yuan_text

OrderStatus = Literal["uploaded", "settled", "refunded", "partly_refunded", "revoked"]
STATUS: dict[str, OrderStatus] = {
    "1": "uploaded",
    "6": "settled",
    "7": "refunded",
    "11": "partly_refunded",
    "12": "revoked",
}

__all__ = [
    "FeeItem",
    "InsuranceRefused",
    "InsuranceSettlement",
    "InsuranceShares",
    "InsuranceStatementLine",
    "InsuranceTimeout",
    "MobilePayment",
    "UploadedOrder",
]


class InsuranceRefused(Exception):
    """The platform answered with a refusal (``code`` is the platform's, e.g. ``PSN_ACCT_INSUFFICIENT``)."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")


@dataclass(frozen=True)
class FeeItem:
    """One fee line uploaded with 6201 (费用明细): catalogue code, unit price in fen, count."""

    serial: str
    code: str
    name: str
    price: int
    count: int

    @property
    def amount(self) -> int:
        return self.price * self.count


@dataclass(frozen=True)
class UploadedOrder:
    """6201's answer: the platform's order (``payOrdId``), its token and the fee total."""

    pay_order_id: str
    pay_token: str
    fee_sum: int


@dataclass(frozen=True)
class InsuranceShares:
    """What the insurance side pays of a bill, in fen (the split MedCard computed): pooled fund
    (``hifp_pay``), personal account (``acct_pay``), family mutual aid (``acct_mulaid_pay``),
    the deductible this bill paid (``act_pay_dedc``, informational) and the hospital's part."""

    fund: int
    personal_account: int
    mutual_aid: int = 0
    deductible: int = 0
    hospital_part: int = 0


@dataclass(frozen=True)
class InsuranceSettlement:
    """The platform's state of one order (6202 / 6301 / 6203 answers), in fen."""

    pay_order_id: str
    status: OrderStatus
    fee_sum: int
    fund: int
    personal_account: int
    mutual_aid: int
    own_pay: int
    hospital_part: int
    deductible: int = 0
    settlement_id: str | None = None
    balance: int | None = None
    """The personal account's balance after this transaction (``setlinfo.balc``)."""


@dataclass(frozen=True)
class InsuranceStatementLine:
    """One settlement or refund in the platform's daily detail statement (3202), in fen."""

    kind: Literal["settle", "refund"]
    pay_order_id: str
    settlement_id: str | None
    reference: str | None
    fund: int
    personal_account: int
    mutual_aid: int
    at: datetime


class MobilePayment:
    """Typed client of 6201 / 6202 / 6301 / 6203 / 6401 over an :class:`InsurancePlatform`."""

    def __init__(self, platform: InsurancePlatform, *, org_code: str) -> None:
        self.platform = platform
        self.org_code = org_code

    async def upload(
        self,
        *,
        person_number: str,
        document_number: str,
        name: str,
        pay_auth_no: str,
        order_reference: str,
        items: list[FeeItem],
    ) -> UploadedOrder:
        """6201: upload a visit's fee items (``order_reference`` is MedCard's bill number)."""
        data = {
            "orgCodg": self.org_code,
            "psnNo": person_number,
            "idNo": document_number,
            "userName": name,
            "payAuthNo": pay_auth_no,
            "medOrgOrd": order_reference,
            "feedetail": [
                {
                    "feedetlSn": item.serial,
                    "medListCodg": item.code,
                    "medinsListName": item.name,
                    "pric": yuan_text(item.price),
                    "cnt": item.count,
                    "detItemFeeSumamt": yuan_text(item.amount),
                }
                for item in items
            ],
        }
        output = _output(await self.platform.upload_fees(_envelope("6201", data)))
        return UploadedOrder(
            pay_order_id=output["payOrdId"], pay_token=output["payToken"], fee_sum=fen_from_yuan(output["feeSumamt"])
        )

    async def settle(
        self, order: UploadedOrder, *, pay_auth_no: str, shares: InsuranceShares, mutual_aid_person: str | None = None
    ) -> InsuranceSettlement:
        """6202: settle with ``shares``; raises :class:`InsuranceTimeout` when the answer is lost."""
        data: dict[str, Any] = {
            "payOrdId": order.pay_order_id,
            "payToken": order.pay_token,
            "payAuthNo": pay_auth_no,
            "fundPay": yuan_text(shares.fund),
            "psnAcctPay": yuan_text(shares.personal_account),
            "acctMulaidPay": yuan_text(shares.mutual_aid),
            "actPayDedc": yuan_text(shares.deductible),
            "hospPartAmt": yuan_text(shares.hospital_part),
        }
        if mutual_aid_person:
            data["acctMulaidPsnNo"] = mutual_aid_person
        return _settlement(_output(await self.platform.settle(_envelope("6202", data))))

    async def query(self, pay_order_id: str) -> InsuranceSettlement:
        """6301: the order's state when a 6202 / 6203 answer was lost."""
        return _settlement(_output(await self.platform.query_order(_envelope("6301", {"payOrdId": pay_order_id}))))

    async def refund(
        self, pay_order_id: str, *, reference: str, amounts: InsuranceShares | None = None
    ) -> InsuranceSettlement:
        """6203: give back ``amounts`` (fund, personal account, mutual aid) or, when ``None``,
        everything still refundable. ``reference`` makes a repeated call harmless."""
        data: dict[str, Any] = {"payOrdId": pay_order_id, "appRefdSn": reference, "refdType": "ALL"}
        if amounts is not None:
            data.update(
                refdType="PART",
                fundRefdAmt=yuan_text(amounts.fund),
                psnAcctRefdAmt=yuan_text(amounts.personal_account),
                acctMulaidRefdAmt=yuan_text(amounts.mutual_aid),
            )
        return _settlement(_output(await self.platform.refund(_envelope("6203", data))))

    async def revoke(self, pay_order_id: str) -> InsuranceSettlement:
        """6401: withdraw an upload that was never settled."""
        return _settlement(_output(await self.platform.revoke_upload(_envelope("6401", {"payOrdId": pay_order_id}))))

    async def statement(self, day: date) -> list[InsuranceStatementLine]:
        """3202: the day's settlements and refunds as the platform recorded them (R-PAY-08)."""
        output = _output(await self.platform.statement(_envelope("3202", {"stmtDate": day.isoformat()})))
        return [
            InsuranceStatementLine(
                kind=row["type"],
                pay_order_id=row["payOrdId"],
                settlement_id=row["setlId"],
                reference=row["appRefdSn"],
                fund=fen_from_yuan(row["fundPay"]),
                personal_account=fen_from_yuan(row["psnAcctPay"]),
                mutual_aid=fen_from_yuan(row["acctMulaidPay"]),
                at=datetime.fromisoformat(row["setlTime"]),
            )
            for row in output["detail"]
        ]


def _envelope(infno: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"infno": infno, "msgid": new_id().hex, "input": {"data": data}}


def _output(answer: dict[str, Any]) -> dict[str, Any]:
    if answer["infcode"] != 0:
        raise InsuranceRefused(answer["output"]["err_code"], answer["err_msg"])
    output: dict[str, Any] = answer["output"]
    return output


def _settlement(output: dict[str, Any]) -> InsuranceSettlement:
    info = output.get("setlinfo") or {}
    return InsuranceSettlement(
        pay_order_id=output["payOrdId"],
        status=STATUS[output["ordStas"]],
        fee_sum=fen_from_yuan(output["feeSumamt"]),
        fund=fen_from_yuan(output["fundPay"]),
        personal_account=fen_from_yuan(output["psnAcctPay"]),
        mutual_aid=fen_from_yuan(output["acctMulaidPay"]),
        own_pay=fen_from_yuan(output["ownPayAmt"]),
        hospital_part=fen_from_yuan(output["hospPartAmt"]),
        deductible=fen_from_yuan(info.get("act_pay_dedc", "0")),
        settlement_id=info.get("setl_id"),
        balance=fen_from_yuan(info["balc"]) if "balc" in info else None,
    )
