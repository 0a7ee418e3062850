"""The hospital information system (HIS, 医院信息系统): existing patient records.

The sandbox starts from ``data/sandbox_his.json`` (the demo hospitals' existing patients)
and keeps what MedCard registers in memory, like a test HIS would.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from importlib import resources
from typing import Protocol

from medcard.adapters.sandbox import SandboxBehaviour


@dataclass(frozen=True)
class HisPatient:
    """A patient record (患者档案) in one hospital's HIS."""

    hospital_code: str
    patient_id: str
    document_type: str
    document_number: str
    name: str
    gender: str
    birth_date: str
    phone: str
    visit_card_number: str


class HisUnavailable(Exception):
    """The HIS did not answer (timeouts happen; the caller retries or reports)."""


class HospitalInformationSystem(Protocol):
    """The part of a HIS that MedCard uses for cards."""

    async def find_patient(
        self, *, hospital_code: str, document_type: str, document_number: str
    ) -> HisPatient | None: ...

    async def register_patient(
        self,
        *,
        hospital_code: str,
        document_type: str,
        document_number: str,
        name: str,
        gender: str,
        birth_date: str,
        phone: str,
        card_number: str,
    ) -> HisPatient: ...

    async def link_card(self, *, hospital_code: str, patient_id: str, card_number: str) -> None: ...


class SandboxHis:
    """In-memory HIS seeded from a fixture."""

    def __init__(self, behaviour: SandboxBehaviour, patients: list[HisPatient]) -> None:
        self.behaviour = behaviour
        self.patients: dict[tuple[str, str, str], HisPatient] = {
            (p.hospital_code, p.document_type, p.document_number): p for p in patients
        }
        self.linked_cards: dict[tuple[str, str], str] = {}

    @classmethod
    def from_fixture(cls, behaviour: SandboxBehaviour) -> SandboxHis:
        text = resources.files("medcard.data").joinpath("sandbox_his.json").read_text(encoding="utf-8")
        return cls(behaviour, [HisPatient(**row) for row in json.loads(text)])

    async def find_patient(self, *, hospital_code: str, document_type: str, document_number: str) -> HisPatient | None:
        await self.behaviour.wait(0.3, hospital_code, document_number)
        return self.patients.get((hospital_code, document_type, document_number))

    async def register_patient(
        self,
        *,
        hospital_code: str,
        document_type: str,
        document_number: str,
        name: str,
        gender: str,
        birth_date: str,
        phone: str,
        card_number: str,
    ) -> HisPatient:
        await self.behaviour.wait(0.5, hospital_code, document_number)
        key = (hospital_code, document_type, document_number)
        if key in self.patients:
            return self.patients[key]
        patient = HisPatient(
            hospital_code=hospital_code,
            patient_id=f"{hospital_code}-{len(self.patients) + 100001:08d}",
            document_type=document_type,
            document_number=document_number,
            name=name,
            gender=gender,
            birth_date=birth_date,
            phone=phone,
            visit_card_number=card_number,
        )
        self.patients[key] = patient
        return patient

    async def link_card(self, *, hospital_code: str, patient_id: str, card_number: str) -> None:
        await self.behaviour.wait(0.3, hospital_code, patient_id)
        self.linked_cards[(hospital_code, patient_id)] = card_number

    def export(self) -> list[dict[str, str]]:
        return [asdict(p) for p in self.patients.values()]
