"""Payment outputs (R-PAY-08): the electronic receipt (医疗电子票据) and the insurance settlement
list (医保结算清单) of one paid order, as PDF.

Made with reportlab (a kept PDF library) and an embedded TrueType font with Chinese glyphs
(Debian's ``fonts-wqy-zenhei``, installed by ``make install`` / ``.ci/run``; another may be named
with ``MEDCARD_PDF_FONT``). Only the glyphs used are embedded (subset), with a ToUnicode map, so
the text can be extracted and searched. The payer is masked (name and card number); amounts are
integer fen rendered as yuan; times are China time; the policy version the split used is printed.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.errors import MedCardError, present
from medcard.i18n import N_, NC_
from medcard.kit.clock import CHINA
from medcard.kit.masking import mask_name
from medcard.kit.money import format_yuan
from medcard.models import Card, Hospital, PaymentOrder

FONT_NAME = "MedCardCJK"
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)
SOURCES = (
    ("fund_fen", "医保统筹基金支付", "Pooled fund"),
    ("personal_account_fen", "医保个人账户支付", "Personal account"),
    ("family_mutual_aid_fen", "家庭共济支付", "Family mutual aid"),
    ("deposit_fen", "预交金支付", "Deposit"),
    ("credit_line_fen", "先诊疗后付费", "Credit line"),
    ("self_pay_fen", "个人自付(微信支付)", "Self-pay (channel)"),
    ("deferred_fund_fen", "医保待报销(已由个人垫付)", "Fund share reimbursed later"),
)
CATEGORY = {"A": "甲类", "B": "乙类", "C": "丙类(自费)"}
SCENARIO = {"online": "线上缴费", "counter": "窗口/自助机", "pharmacy": "药房"}


class ReceiptNotReady(MedCardError):
    status = 409
    code = "RECEIPT_NOT_READY"
    message = NC_("RECEIPT_NOT_READY", "The order is not paid, so there is no receipt yet")
    hint = N_("The receipt and the settlement list can be downloaded once the order is paid.")


class PdfFontMissing(MedCardError):
    status = 500
    code = "PDF_FONT_MISSING"
    message = NC_("PDF_FONT_MISSING", "The server has no Chinese font to make the PDF")
    hint = NC_("PDF_FONT_MISSING", "Install fonts-wqy-zenhei, or name a font file in MEDCARD_PDF_FONT.")


@dataclass(frozen=True)
class DocumentFacts:
    """What the documents print besides the order: the hospital, the payer (unmasked here,
    masked when printed), the card number and the insurance person number if bound."""

    hospital_name: str
    hospital_code: str
    payer_name: str
    card_number: str
    insured_region: str = ""


def font_path() -> Path | None:
    named = os.environ.get("MEDCARD_PDF_FONT")
    for candidate in ((named,) if named else ()) + FONT_CANDIDATES:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


@cache
def _register_font() -> str:
    path = font_path()
    if path is None:
        raise PdfFontMissing()
    index = {"subfontIndex": 0} if path.suffix.lower() == ".ttc" else {}
    pdfmetrics.registerFont(TTFont(FONT_NAME, str(path), **index))
    return FONT_NAME


def mask_card(number: str) -> str:
    """``1100012345678901`` → ``************8901``."""
    return "*" * max(0, len(number) - 4) + number[-4:]


def document_number(order: PaymentOrder, kind: str) -> str:
    """A stable number per order and document kind (票据号码 / 清单流水号)."""
    return f"{kind}{order.created_at.astimezone(CHINA):%Y%m%d}{order.id.hex[:12].upper()}"


def _paid_time(order: PaymentOrder) -> datetime:
    return (order.paid_at or order.created_at).astimezone(CHINA)


def pdf_styles() -> tuple[ParagraphStyle, ParagraphStyle, ParagraphStyle]:
    font = _register_font()
    title = ParagraphStyle("title", fontName=font, fontSize=16, leading=22, alignment=1)
    body = ParagraphStyle("body", fontName=font, fontSize=9.5, leading=14)
    small = ParagraphStyle("small", fontName=font, fontSize=8, leading=11, textColor=colors.grey)
    return title, body, small


def pdf_table(rows: list[list[str]], widths: list[float], *, header: bool = True) -> Table:
    table = Table(rows, colWidths=widths)
    style = [
        ("FONT", (0, 0), (-1, -1), FONT_NAME, 9),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ALIGN", (-1, 0), (-1, -1), "RIGHT"),
    ]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef3f8")))
    table.setStyle(TableStyle(style))
    return table


def _sources(order: PaymentOrder) -> list[list[str]]:
    rows = [["支付来源 Source", "金额(元) Yuan"]]
    for name, zh, en in SOURCES:
        amount = int(order.funding.get(name, 0))
        if amount:
            rows.append([f"{zh} {en}", format_yuan(amount)])
    rows.append(["合计 Total", format_yuan(order.total_fen)])
    return rows


def _items(order: PaymentOrder) -> list[list[str]]:
    rows = [["项目 Item", "类别 Class", "单价 Price", "数量 Qty", "金额(元) Yuan"]]
    for item in order.items:
        rows.append(
            [
                str(item.get("name", "")),
                CATEGORY.get(str(item.get("category", "")), str(item.get("category", ""))),
                format_yuan(int(item.get("unit_price", 0))),
                str(item.get("quantity", 1)),
                format_yuan(int(item.get("amount_fen", 0))),
            ]
        )
    return rows


def _refunds(order: PaymentOrder) -> list[Flowable]:
    refunded = {source: int(amount) for source, amount in (order.refunded or {}).items() if int(amount)}
    if not refunded:
        return []
    _, body, _ = pdf_styles()
    parts = ", ".join(f"{source} {format_yuan(amount)}" for source, amount in sorted(refunded.items()))
    return [Paragraph(f"已退款 Refunded: ¥{format_yuan(sum(refunded.values()))} ({parts})", body)]


def render_pdf(flowables: list[Flowable], title: str) -> bytes:
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=title,
        author="MedCard",
        creator="MedCard",
    )
    document.build(flowables)
    return buffer.getvalue()


def receipt_pdf(order: PaymentOrder, facts: DocumentFacts) -> bytes:
    """医疗电子票据: the hospital, the masked payer, the time, the items, amounts by source."""
    if order.state != "paid":
        raise ReceiptNotReady()
    title, body, small = pdf_styles()
    when = _paid_time(order)
    head = [
        ["票据号码 Receipt no.", document_number(order, "PJ")],
        ["开票单位 Hospital", f"{facts.hospital_name} ({facts.hospital_code})"],
        ["交款人 Payer", f"{mask_name(facts.payer_name)}  就诊卡 {mask_card(facts.card_number)}"],
        ["缴费时间 Paid at", f"{when:%Y-%m-%d %H:%M:%S} (北京时间 China time)"],
        ["账单号 Bill", f"{order.bill_number}  ({SCENARIO.get(order.scenario, order.scenario)})"],
        ["医保政策版本 Policy version", order.policy_version],
    ]
    flowables: list[Flowable] = [
        Paragraph("医疗电子票据", title),
        Paragraph("Medical electronic receipt", small),
        Spacer(1, 4 * mm),
        pdf_table(head, [48 * mm, 126 * mm], header=False),
        Spacer(1, 4 * mm),
        pdf_table(_items(order), [64 * mm, 30 * mm, 26 * mm, 20 * mm, 34 * mm]),
        Spacer(1, 4 * mm),
        pdf_table(_sources(order), [120 * mm, 54 * mm]),
        Spacer(1, 3 * mm),
        *_refunds(order),
        Paragraph(f"金额合计(大写以元计) Total: ¥{format_yuan(order.total_fen)}", body),
        Spacer(1, 6 * mm),
        Paragraph("本票据由 MedCard 依据医院收费记录生成,可在缴费记录中重复下载。", small),
    ]
    return render_pdf(flowables, "医疗电子票据")


def settlement_list_pdf(order: PaymentOrder, facts: DocumentFacts) -> bytes:
    """医保结算清单: the insured person (masked), the platform's order, the split the rules made
    (policy-range amount, class B / C self-pay, deductible, ratio, fund, personal account)."""
    if order.state != "paid":
        raise ReceiptNotReady()
    title, body, small = pdf_styles()
    split = order.split or {}
    when = _paid_time(order)
    ratio = int(split.get("ratio_bp", 0))
    head = [
        ["清单流水号 List no.", document_number(order, "JS")],
        ["定点医药机构 Hospital", f"{facts.hospital_name} ({facts.hospital_code})"],
        ["参保人 Insured", f"{mask_name(facts.payer_name)}  就诊卡 {mask_card(facts.card_number)}"],
        ["参保地 Insured region", facts.insured_region or "—"],
        ["医保结算单号 Platform order", order.insurance_order_id or "—(未经医保结算 not settled by insurance)"],
        ["就诊类型 Visit", "住院 inpatient" if order.visit_type == "inpatient" else "门诊 outpatient"],
        ["结算时间 Settled at", f"{when:%Y-%m-%d %H:%M:%S} (北京时间 China time)"],
        ["医保政策版本 Policy version", order.policy_version],
    ]
    figures = [
        ["项目 Line", "金额(元) Yuan"],
        ["医疗费总额 Total", format_yuan(order.total_fen)],
        ["政策范围内金额 Covered", format_yuan(int(split.get("covered_fen", 0)))],
        ["乙类先行自付 Class B self-pay", format_yuan(int(split.get("class_b_self_fen", 0)))],
        ["丙类自费 Class C", format_yuan(int(split.get("class_c_fen", 0)))],
        ["本次起付线 Deductible", format_yuan(order.deductible_fen)],
        ["统筹支付比例 Ratio", f"{ratio / 100:.2f}%"],
        ["统筹基金支付 Fund (hifp_pay)", format_yuan(order.fund_fen)],
        ["个人账户支付 Personal account (acct_pay)", format_yuan(int(order.funding.get("personal_account_fen", 0)))],
        ["家庭共济 Mutual aid (acct_mulaid_pay)", format_yuan(int(order.funding.get("family_mutual_aid_fen", 0)))],
        ["个人现金支付 Cash (psn_cash_pay)", format_yuan(_cash(order))],
    ]
    flowables: list[Flowable] = [
        Paragraph("医保结算清单", title),
        Paragraph("Medical insurance settlement list", small),
        Spacer(1, 4 * mm),
        pdf_table(head, [52 * mm, 122 * mm], header=False),
        Spacer(1, 4 * mm),
        pdf_table(_items(order), [64 * mm, 30 * mm, 26 * mm, 20 * mm, 34 * mm]),
        Spacer(1, 4 * mm),
        pdf_table(figures, [120 * mm, 54 * mm]),
        Spacer(1, 3 * mm),
    ]
    if order.deferred_fund_fen:
        note = f"统筹基金 ¥{format_yuan(order.deferred_fund_fen)} 由个人先行垫付,于 {order.reimburse_on} 报销"
        flowables.append(Paragraph(note + (" (已到账 reimbursed)" if order.reimbursed_at else ""), body))
    if split.get("limited_by"):
        flowables.append(Paragraph(f"基金支付受限原因 Limited by: {split['limited_by']}", body))
    flowables += [*_refunds(order), Spacer(1, 6 * mm), Paragraph("本清单依据医保结算结果生成。", small)]
    return render_pdf(flowables, "医保结算清单")


def _cash(order: PaymentOrder) -> int:
    """What the patient paid himself now: deposit, credit line and the channel's self-pay."""
    funding = order.funding
    return sum(int(funding.get(name, 0)) for name in ("deposit_fen", "credit_line_fen", "self_pay_fen"))


async def facts_of(session: AsyncSession, order: PaymentOrder) -> DocumentFacts:
    """The hospital, the card holder and the insured region of an order."""
    hospital = present(await session.get(Hospital, order.hospital_id), "hospital")
    card = present(await session.get(Card, order.card_id), "card")
    region = next((part.split(":", 1)[1].split("@")[0] for part in order.policy_version.split(";")
                   if part.startswith("region:")), "")  # fmt: skip
    return DocumentFacts(hospital.name_zh, hospital.code, card.name, card.card_number, region)
