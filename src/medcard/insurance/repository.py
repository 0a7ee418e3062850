"""Queries over bindings, binding attempts, filings and special-disease applications."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.family.repository import visible_person
from medcard.kit.clock import clock
from medcard.models import (
    Account,
    BindingAttempt,
    Card,
    DiseaseMaterial,
    InsuranceBinding,
    OutOfRegionFiling,
    SpecialDiseaseApplication,
)


def _visible_binding(account: Account) -> ColumnElement[bool]:
    """The binding's insured person is the holder or a relative he currently acts for: a family
    relation that ends hides the relative's e-voucher, filings and applications at once (R-FAM-06)."""
    return visible_person(InsuranceBinding.person_id, account, clock.today_in_china())


class InsuranceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def card_of(self, account: Account, card_id: uuid.UUID) -> Card | None:
        visible = visible_person(Card.person_id, account, clock.today_in_china())
        return await self.session.scalar(select(Card).where(Card.id == card_id, visible))

    async def active_binding_for_card(self, card: Card) -> InsuranceBinding | None:
        statement = select(InsuranceBinding).where(
            InsuranceBinding.card_id == card.id, InsuranceBinding.status == "active"
        )
        return await self.session.scalar(statement)

    async def bindings_of(self, account: Account) -> Sequence[InsuranceBinding]:
        statement = (
            select(InsuranceBinding)
            .where(InsuranceBinding.account_id == account.id, _visible_binding(account))
            .order_by(InsuranceBinding.bound_at.desc())
        )
        return (await self.session.scalars(statement)).all()

    async def binding_of(self, account: Account, binding_id: uuid.UUID) -> InsuranceBinding | None:
        statement = select(InsuranceBinding).where(
            InsuranceBinding.id == binding_id, InsuranceBinding.account_id == account.id, _visible_binding(account)
        )
        return await self.session.scalar(statement)

    async def filings_of(self, account: Account) -> Sequence[OutOfRegionFiling]:
        statement = (
            select(OutOfRegionFiling)
            .join(InsuranceBinding, InsuranceBinding.id == OutOfRegionFiling.binding_id)
            .where(OutOfRegionFiling.account_id == account.id, _visible_binding(account))
            .order_by(OutOfRegionFiling.created_at.desc())
        )
        return (await self.session.scalars(statement)).all()

    async def filing_of(self, account: Account, filing_id: uuid.UUID) -> OutOfRegionFiling | None:
        statement = (
            select(OutOfRegionFiling)
            .join(InsuranceBinding, InsuranceBinding.id == OutOfRegionFiling.binding_id)
            .where(
                OutOfRegionFiling.id == filing_id, OutOfRegionFiling.account_id == account.id, _visible_binding(account)
            )
        )
        return await self.session.scalar(statement)

    async def active_filings(self, binding: InsuranceBinding, region_code: str) -> Sequence[OutOfRegionFiling]:
        statement = select(OutOfRegionFiling).where(
            OutOfRegionFiling.binding_id == binding.id,
            OutOfRegionFiling.destination_region_code == region_code,
            OutOfRegionFiling.status == "active",
        )
        return (await self.session.scalars(statement)).all()

    async def applications_of(self, account: Account) -> Sequence[SpecialDiseaseApplication]:
        statement = (
            select(SpecialDiseaseApplication)
            .join(InsuranceBinding, InsuranceBinding.id == SpecialDiseaseApplication.binding_id)
            .where(SpecialDiseaseApplication.account_id == account.id, _visible_binding(account))
            .order_by(SpecialDiseaseApplication.created_at.desc())
        )
        return (await self.session.scalars(statement)).all()

    async def application(self, application_id: uuid.UUID) -> SpecialDiseaseApplication | None:
        return await self.session.get(SpecialDiseaseApplication, application_id)

    async def review_queue(self, hospital_id: uuid.UUID | None) -> Sequence[SpecialDiseaseApplication]:
        """Applications waiting for review, oldest first: those of cards of ``hospital_id`` (a
        hospital reviewer, R-CARD-05's staff scope) or all of them (platform staff, ``None``)."""
        statement = (
            select(SpecialDiseaseApplication)
            .join(InsuranceBinding, InsuranceBinding.id == SpecialDiseaseApplication.binding_id)
            .join(Card, Card.id == InsuranceBinding.card_id)
            .where(SpecialDiseaseApplication.status == "submitted")
            .order_by(SpecialDiseaseApplication.created_at)
        )
        if hospital_id is not None:
            statement = statement.where(Card.hospital_id == hospital_id)
        return (await self.session.scalars(statement)).unique().all()

    async def material(self, application: SpecialDiseaseApplication, position: int) -> DiseaseMaterial | None:
        statement = select(DiseaseMaterial).where(
            DiseaseMaterial.application_id == application.id, DiseaseMaterial.position == position
        )
        return await self.session.scalar(statement)

    async def approved_diseases(self, binding: InsuranceBinding) -> list[str]:
        statement = select(SpecialDiseaseApplication.disease_code).where(
            SpecialDiseaseApplication.binding_id == binding.id, SpecialDiseaseApplication.status == "approved"
        )
        return list(await self.session.scalars(statement))

    async def attempts_by_scheme(self) -> list[tuple[str | None, str, int]]:
        statement = select(BindingAttempt.scheme_code, BindingAttempt.result, func.count()).group_by(
            BindingAttempt.scheme_code, BindingAttempt.result
        )
        return [(scheme, result, int(count)) for scheme, result, count in (await self.session.execute(statement)).all()]

    async def failures_by_category(self) -> list[tuple[str, int]]:
        statement = (
            select(BindingAttempt.category, func.count())
            .where(BindingAttempt.result == "refused")
            .group_by(BindingAttempt.category)
            .order_by(func.count().desc())
        )
        return [(str(category), int(count)) for category, count in (await self.session.execute(statement)).all()]
