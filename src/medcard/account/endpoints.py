"""The patient's own account (API): agreements, elder mode, deletion."""

from __future__ import annotations

from fastapi import APIRouter

from medcard.account import rules, service
from medcard.account.schemas import AccountDelete, AccountSettings, ConsentAccept, ElderModeSet
from medcard.deps import AccountDep, SessionDep

router = APIRouter(prefix="/me", tags=["account"])


@router.get("/settings", response_model=AccountSettings, summary="Accepted agreement version and elder mode")
async def settings_of(account: AccountDep) -> AccountSettings:
    return AccountSettings.of(account, rules.CONSENT_VERSION)


@router.post("/consent", response_model=AccountSettings, summary="Accept the current agreements (versioned)")
async def accept(body: ConsentAccept, session: SessionDep, account: AccountDep) -> AccountSettings:
    await service.accept_consent(session, account=account, version=body.version)
    return AccountSettings.of(account, rules.CONSENT_VERSION)


@router.put("/elder-mode", response_model=AccountSettings, summary="Switch elder mode (R-A11Y-01)")
async def elder_mode(body: ElderModeSet, session: SessionDep, account: AccountDep) -> AccountSettings:
    await service.set_elder_mode(session, account=account, on=body.on)
    return AccountSettings.of(account, rules.CONSENT_VERSION)


@router.post("/delete", status_code=204, summary="Delete the account (注销); sessions end")
async def delete(body: AccountDelete, session: SessionDep, account: AccountDep) -> None:
    await service.delete_account(session, account=account, confirm=body.confirm)
