"""Kiosk (自助机) records: service requests that need a physical card (R-CARD-11).

Also the database guard of R-CARD-08: at most one issued physical card per e-card.
"""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from medcard.models.base import Base
from medcard.models.card import PhysicalCard


class KioskServiceRequest(Base):
    """A kiosk service that still needs the physical card (R-CARD-11): printing records
    (打印病历), special exam registration such as MRI (特殊检查预约) or printing the insurance
    fee list (打印医保费用清单). The printing itself is out of scope; the request is kept."""

    __tablename__ = "kiosk_service_request"

    card_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("card.id"), index=True)
    physical_card_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("physical_card.id"))
    hospital_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("hospital.id"), index=True)
    service: Mapped[str] = mapped_column(String(32))
    """``print_records``, ``special_exam_registration`` or ``print_insurance_fee_list`` (kiosk/rules.py)."""
    requested_by_staff_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff_user.id"))
    status: Mapped[str] = mapped_column(String(16), default="requested")


# R-CARD-08: a re-issue marks the old card ``replaced`` first, so only one row per e-card is
# ever ``issued``. The service locks the card row too; this index is the last word.
Index(
    "uq_physical_card_one_issued_per_card",
    PhysicalCard.card_id,
    unique=True,
    sqlite_where=PhysicalCard.status == "issued",
    postgresql_where=PhysicalCard.status == "issued",
)
