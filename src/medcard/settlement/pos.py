"""The POS shows the split of the chosen bill before the cashier confirms the charge
(R-PAY-02, R-PAY-09): the verification code from the redeem names the card and caps the bill."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters import Adapters
from medcard.card.repository import CardRepository
from medcard.codes.errors import AuthorisationAmountExceeded
from medcard.codes.service import check_verification_code
from medcard.config import Settings
from medcard.errors import NotFound
from medcard.models import Card, StaffUser
from medcard.settlement import service


async def pos_quote(
    session: AsyncSession,
    *,
    staff: StaffUser,
    verification_code: str,
    bill_number: str,
    settings: Settings,
    adapters: Adapters,
) -> tuple[service.Quote, Card]:
    """The split of ``bill_number`` for the card the verification code names, as the POS would
    charge it now (nothing is held yet)."""
    claims = check_verification_code(staff=staff, token=verification_code, amount_fen=1, settings=settings)
    card = await CardRepository(session).by_number(claims.card_number)
    if card is None:
        raise NotFound()
    scenario = "pharmacy" if staff.role == "pharmacy" else "counter"
    quoted = await service.quote(session, card=card, bill_number=bill_number, scenario=scenario, adapters=adapters)
    if quoted.bill.total > claims.ceiling_fen:
        raise AuthorisationAmountExceeded(field="bill_number")
    return quoted, card
