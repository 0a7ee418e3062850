"""R-CARD-07: the display QR is signed and versioned; a change of personal data retires old codes."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters import Adapters
from medcard.card import qr, service
from medcard.card.errors import CardNotActive, CardQrInvalid, CardQrStale
from medcard.config import Settings
from tests.card.conftest import issue_card
from tests.factories import Demo, verified_account


async def test_r_card_07_current_code_resolves_to_its_card(
    db: AsyncSession, adapters: Adapters, demo: Demo, settings: Settings
) -> None:
    card = await issue_card(db, adapters, await verified_account(db), demo.hospital)
    code = service.display_code(card, settings=settings)
    resolved = await service.resolve_display_code(db, text=code.text, settings=settings)
    assert resolved.id == card.id
    assert "<svg" in code.svg


async def test_r_card_07_old_code_refused_at_once_after_personal_change(
    db: AsyncSession, adapters: Adapters, demo: Demo, settings: Settings
) -> None:
    account = await verified_account(db)
    card = await issue_card(db, adapters, account, demo.hospital)
    old = service.display_code(card, settings=settings).text
    await service.update_personal_info(db, account=account, card=card, changes={"address": "北京市西城区新街口5号"})
    with pytest.raises(CardQrStale):
        await service.resolve_display_code(db, text=old, settings=settings)
    new = service.display_code(card, settings=settings).text
    assert (await service.resolve_display_code(db, text=new, settings=settings)).id == card.id


async def test_r_card_07_forged_or_altered_code_is_invalid(
    db: AsyncSession, adapters: Adapters, demo: Demo, settings: Settings
) -> None:
    card = await issue_card(db, adapters, await verified_account(db), demo.hospital)
    forged = qr.issue(secret="another-secret-" + "x" * 32, card_number=card.card_number, version=card.qr_version)
    with pytest.raises(CardQrInvalid):
        await service.resolve_display_code(db, text=forged, settings=settings)
    genuine = service.display_code(card, settings=settings).text
    prefix, body, mac = genuine.split(".")
    with pytest.raises(CardQrInvalid):
        await service.resolve_display_code(db, text=f"{prefix}.{body}x.{mac}", settings=settings)


async def test_r_card_07_code_of_a_card_pending_activation_is_not_active(
    db: AsyncSession, adapters: Adapters, demo: Demo, settings: Settings
) -> None:
    card = await issue_card(db, adapters, await verified_account(db), demo.county_hospital)
    assert card.status == "pending_activation"
    text = service.display_code(card, settings=settings).text
    with pytest.raises(CardNotActive):
        await service.resolve_display_code(db, text=text, settings=settings)
    resolved = await service.resolve_display_code(db, text=text, settings=settings, allow_pending_activation=True)
    assert resolved.id == card.id
