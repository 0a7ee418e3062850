"""Monthly family bill (亲情账单, R-FAM-07): pure rules over the month's paid orders of the holder
and the relatives he acts for — spending by member, by category and by source, the largest
items, how much the insurance covered, the change from last month. Money in fen."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from medcard.i18n import N_, NC_

CATEGORIES = {
    "registration": N_("Registration"),
    "drug": N_("Drugs"),
    "exam": N_("Exams"),
    "outpatient": N_("Treatment"),
    "inpatient_deposit": N_("Inpatient deposit"),
}
SOURCES = {
    "fund_fen": ("fund", N_("Pooled fund")),
    "personal_account_fen": ("personal_account", N_("Personal account")),
    "family_mutual_aid_fen": ("family_mutual_aid", NC_("family/bill", "Mutual aid")),
    "deposit_fen": ("deposit", NC_("web/settlement_pages", "Deposit")),
    "credit_line_fen": ("credit_line", NC_("family/bill", "Credit line")),
    "self_pay_fen": ("channel", N_("Self-pay")),
}
"""Funding key → (refund key, label)."""
INSURANCE_SOURCES = ("fund_fen", "personal_account_fen", "family_mutual_aid_fen")


@dataclass(frozen=True)
class Order:
    """One paid order as the bill sees it."""

    member: str
    category: str
    funding: dict[str, int]
    refunded: dict[str, int]
    items: tuple[tuple[str, int], ...]


@dataclass
class FamilyBill:
    """The month's totals (fen) and the analysis."""

    total_fen: int = 0
    by_member: Counter[str] = field(default_factory=Counter)
    by_category: Counter[str] = field(default_factory=Counter)
    by_source: Counter[str] = field(default_factory=Counter)
    largest: list[tuple[str, str, int]] = field(default_factory=list)
    insured_bp: int = 0
    """Share the insurance paid (fund + personal account + mutual aid), basis points, rounded down."""
    change_bp: int | None = None
    """Change from last month in basis points (``None`` when last month spent nothing)."""


def net_sources(order: Order) -> dict[str, int]:
    """Each source's fen after refunds (R-PAY-06 sends a refund back to its source)."""
    return {
        key: order.funding.get(key, 0) - order.refunded.get(refund_key, 0)
        for key, (refund_key, _label) in SOURCES.items()
    }


def monthly_bill(orders: list[Order], *, last_month_fen: int = 0, top: int = 3) -> FamilyBill:
    """Spending by member, category and source, the ``top`` largest items and the trend."""
    bill = FamilyBill()
    items: list[tuple[str, str, int]] = []
    for order in orders:
        sources = net_sources(order)
        spent = sum(sources.values())
        bill.total_fen += spent
        bill.by_member[order.member] += spent
        bill.by_category[order.category] += spent
        bill.by_source.update({key: value for key, value in sources.items() if value})
        items += [(order.member, name, amount) for name, amount in order.items]
    bill.largest = sorted(items, key=lambda item: item[2], reverse=True)[:top]
    insured = sum(bill.by_source[key] for key in INSURANCE_SOURCES)
    bill.insured_bp = insured * 10_000 // bill.total_fen if bill.total_fen else 0
    if last_month_fen:
        bill.change_bp = (bill.total_fen - last_month_fen) * 10_000 // last_month_fen
    return bill
