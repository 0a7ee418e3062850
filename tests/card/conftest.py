"""Card test helpers: a complete application form and a card issued through the service."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters import Adapters
from medcard.card import service
from medcard.models import Account, Card, Hospital


def complete_form(**overrides: str) -> dict[str, str]:
    """Every non-identity field of the form, valid (identity comes from the verified person)."""
    form = {
        "ethnicity": "汉族",
        "phone": "13912345678",
        "region_code": "110101",
        "address": "北京市东城区示范路1号3单元502",
        "postal_code": "100010",
        "occupation": "professional",
        "employer": "京华软件有限公司",
        "marital_status": "married",
        "education": "bachelor",
        "emergency_name": "李四",
        "emergency_phone": "13700001111",
        "emergency_relation": "spouse",
    }
    form.update(overrides)
    return form


async def issue_card(
    db: AsyncSession, adapters: Adapters, account: Account, hospital: Hospital, **overrides: str
) -> Card:
    """A card issued for the account holder through the real submit path."""
    subject = await service.resolve_subject(db, account=account, subject_key="self")
    return await service.submit(
        db, account=account, hospital=hospital, subject=subject, adapters=adapters, fields=complete_form(**overrides)
    )


@pytest.fixture
def form() -> dict[str, str]:
    return complete_form()
