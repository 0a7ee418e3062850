"""The hospital information system (HIS, 医院信息系统): existing patient records and bills.

The sandbox starts from ``data/sandbox_his.json`` (the demo hospitals' existing patients)
and keeps what MedCard registers in memory, like a test HIS would.

Bills (待缴费账单): each patient has a deterministic list under the seed — always a
registration, usually drugs, exams and outpatient treatment, sometimes an inpatient deposit —
whose items carry the insurance catalogue class: ``A`` (甲类，fully in scope), ``B`` (乙类，
in scope after the item's self-pay share ``self_pay_share_bp``) or ``C`` (丙类，not covered).
An inpatient deposit (住院预交金) is prepaid money, not a fee: its single line is class ``C``
and it is never sent to the insurance platform. Prices are integer fen. ``mark_paid`` records
MedCard's payment reference; paying a paid bill again is refused. ``mark_refunded`` records a
refund (R-PAY-06): the bill becomes ``partially_refunded`` or ``refunded`` once its refunds
reach its total; the same refund reference again is harmless.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from importlib import resources
from typing import Any, Literal, Protocol

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


Category = Literal["A", "B", "C"]
BillKind = Literal["registration", "outpatient", "drug", "exam", "inpatient_deposit"]


@dataclass(frozen=True)
class BillItem:
    """One line of a HIS bill (收费明细): catalogue code and class, unit price in fen, quantity."""

    code: str
    name: str
    category: Category
    self_pay_share_bp: int
    """Class B's self-pay share in basis points (乙类先行自付比例); 0 for A, 10000 for C."""
    unit_price: int
    quantity: int

    @property
    def amount(self) -> int:
        return self.unit_price * self.quantity


@dataclass(frozen=True)
class HisBill:
    """A bill waiting in the HIS (or paid through MedCard): registration, treatment, drugs,
    exams or an inpatient deposit."""

    bill_no: str
    hospital_code: str
    patient_id: str
    kind: BillKind
    department: str
    items: tuple[BillItem, ...]
    status: Literal["unpaid", "paid", "partially_refunded", "refunded"] = "unpaid"
    payment_reference: str | None = None
    refunds: tuple[tuple[str, int], ...] = ()
    """(refund reference, fen) of every refund the HIS was told of."""

    @property
    def refunded_fen(self) -> int:
        return sum(amount for _, amount in self.refunds)

    @property
    def total(self) -> int:
        return sum(item.amount for item in self.items)


class BillAlreadyPaid(Exception):
    """``mark_paid`` on a bill the HIS already holds as paid (with another reference)."""


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

    async def bills(self, *, hospital_code: str, patient_id: str) -> list[HisBill]: ...

    async def bill(self, *, hospital_code: str, patient_id: str, bill_no: str) -> HisBill | None:
        """One of the patient's bills by its number (``None``: the patient has no such bill)."""
        ...

    async def mark_paid(self, *, hospital_code: str, bill_no: str, payment_reference: str) -> HisBill: ...

    async def mark_refunded(
        self, *, hospital_code: str, bill_no: str, refund_reference: str, amount_fen: int
    ) -> HisBill: ...


# The sandbox's catalogue: (code, name, class, class-B self-pay share in bp, unit price in fen).
CATALOGUE: dict[str, list[tuple[str, str, Category, int, int]]] = {
    "registration": [
        ("110200001", "普通门诊诊查费", "A", 0, 2_500),
        ("110200002", "副主任医师门诊诊查费", "A", 0, 5_000),
        ("110200003", "知名专家门诊诊查费", "B", 1_000, 10_000),
    ],
    "drug": [
        ("XJ01CAA040", "阿莫西林胶囊 0.25g×24", "A", 0, 1_250),
        ("XM01AEI015", "布洛芬缓释胶囊 0.3g×20", "A", 0, 1_800),
        ("XJ01DCC120", "头孢克洛缓释片 0.375g×6", "B", 1_000, 3_680),
        ("XA02BCO011", "奥美拉唑肠溶胶囊 20mg×14", "B", 500, 2_950),
        ("ZA01AAL055", "连花清瘟胶囊 0.35g×24", "B", 2_000, 2_680),
        ("XL01EXT001", "进口抗肿瘤靶向药（目录外） 80mg×30", "C", 10_000, 1_520_000),
    ],
    "exam": [
        ("250101015", "血细胞分析（血常规）", "A", 0, 2_000),
        ("220300001", "彩色多普勒超声检查", "A", 0, 15_000),
        ("210300003", "胸部CT平扫", "B", 1_000, 24_000),
        ("210500001", "磁共振平扫（MRI）", "B", 2_000, 68_000),
    ],
    "outpatient": [
        ("120400006", "静脉输液", "A", 0, 1_500),
        ("121300001", "换药（中）", "A", 0, 3_000),
        ("430000001", "普通针刺（自费项目）", "C", 10_000, 8_000),
    ],
}
DEPARTMENTS = {
    "registration": "门诊挂号",
    "outpatient": "门诊治疗室",
    "drug": "门诊药房",
    "exam": "医学影像科",
    "inpatient_deposit": "住院处",
}
DEPOSITS = (300_000, 500_000, 1_000_000)


class SandboxHis:
    """In-memory HIS seeded from a fixture."""

    def __init__(self, behaviour: SandboxBehaviour, patients: list[HisPatient], *, extra_bills: int = 0) -> None:
        self.behaviour = behaviour
        self.extra_bills = extra_bills
        self.patients: dict[tuple[str, str, str], HisPatient] = {
            (p.hospital_code, p.document_type, p.document_number): p for p in patients
        }
        self.linked_cards: dict[tuple[str, str], str] = {}
        self.patient_bills: dict[tuple[str, str], dict[str, Record]] = {}
        """Each patient's bills by number, as plain tuples (see :data:`Record`)."""
        self._bill_lists: dict[tuple[str, str], dict[str, Record]] = {}
        """(hospital, bill number) → the list holding it (a look-up, not a walk over every patient)."""

    @classmethod
    def from_fixture(cls, behaviour: SandboxBehaviour, *, extra_bills: int = 0) -> SandboxHis:
        text = resources.files("medcard.data").joinpath("sandbox_his.json").read_text(encoding="utf-8")
        return cls(behaviour, [HisPatient(**row) for row in json.loads(text)], extra_bills=extra_bills)

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

    async def bills(self, *, hospital_code: str, patient_id: str) -> list[HisBill]:
        """The patient's bills, unpaid and paid (generated once per patient, deterministic)."""
        await self.behaviour.wait(0.4, "bills", hospital_code, patient_id)
        return [_bill(record) for record in self._bills(hospital_code, patient_id).values()]

    async def bill(self, *, hospital_code: str, patient_id: str, bill_no: str) -> HisBill | None:
        await self.behaviour.wait(0.2, "bill", hospital_code, bill_no)
        record = self._bills(hospital_code, patient_id).get(bill_no)
        return None if record is None else _bill(record)

    async def mark_paid(self, *, hospital_code: str, bill_no: str, payment_reference: str) -> HisBill:
        """Record that MedCard collected the bill; the same reference again is harmless."""
        await self.behaviour.wait(0.3, "mark-paid", hospital_code, bill_no)
        extra = f"{hospital_code}-X"
        if bill_no.startswith(extra):  # an extra bill of a patient not listed since a restart
            self._bills(hospital_code, bill_no.removeprefix(extra).rsplit(".", 1)[0])
        bills = self._bill_lists.get((hospital_code, bill_no))
        if bills is None:
            raise KeyError(bill_no)
        bill = _bill(bills[bill_no])
        if bill.status == "paid":
            if bill.payment_reference != payment_reference:
                raise BillAlreadyPaid(bill_no)
            return bill
        paid = replace(bill, status="paid", payment_reference=payment_reference)
        bills[bill_no] = _record(paid)
        return paid

    async def mark_refunded(
        self, *, hospital_code: str, bill_no: str, refund_reference: str, amount_fen: int
    ) -> HisBill:
        """Record a refund of a paid bill: partially refunded, or refunded once the refunds
        reach its total. The same reference again changes nothing."""
        await self.behaviour.wait(0.3, "mark-refunded", hospital_code, bill_no)
        bills = self._bill_lists.get((hospital_code, bill_no))
        if bills is None:
            raise KeyError(bill_no)
        bill = _bill(bills[bill_no])
        if any(reference == refund_reference for reference, _ in bill.refunds):
            return bill
        if bill.status not in ("paid", "partially_refunded") or bill.refunded_fen + amount_fen > bill.total:
            raise ValueError(f"bill {bill_no} cannot be refunded {amount_fen} fen")
        refunds = (*bill.refunds, (refund_reference, amount_fen))
        whole = sum(amount for _, amount in refunds) == bill.total
        refunded = replace(bill, refunds=refunds, status="refunded" if whole else "partially_refunded")
        bills[bill_no] = _record(refunded)
        return refunded

    def add_bill(self, *, hospital_code: str, patient_id: str, kind: BillKind, items: list[BillItem]) -> HisBill:
        """A bill entered at the HIS (tests, demo): appended to the patient's list."""
        bills = self._bills(hospital_code, patient_id)
        bill = HisBill(
            bill_no=self._bill_no(hospital_code, patient_id, len(bills) + 100),
            hospital_code=hospital_code,
            patient_id=patient_id,
            kind=kind,
            department=DEPARTMENTS[kind],
            items=tuple(items),
        )
        bills[bill.bill_no] = _record(bill)
        self._bill_lists[(hospital_code, bill.bill_no)] = bills
        return bill

    def _bills(self, hospital_code: str, patient_id: str) -> dict[str, Record]:
        key = (hospital_code, patient_id)
        if key not in self.patient_bills:
            generated = self._generate(hospital_code, patient_id)
            bills = self.patient_bills[key] = {bill.bill_no: _record(bill) for bill in generated}
            self._bill_lists.update({(hospital_code, number): bills for number in bills})
        return self.patient_bills[key]

    def _generate(self, hospital_code: str, patient_id: str) -> list[HisBill]:
        chance = self.behaviour.chance
        kinds: list[BillKind] = ["registration"]
        kinds += [
            kind for kind in ("drug", "exam", "outpatient") if chance("bill", hospital_code, patient_id, kind) < 0.7
        ]
        if chance("bill", hospital_code, patient_id, "inpatient_deposit") < 0.1:
            kinds.append("inpatient_deposit")
        bills = []
        for index, kind in enumerate(kinds):
            if kind == "inpatient_deposit":
                amount = DEPOSITS[int(chance("deposit", hospital_code, patient_id) * len(DEPOSITS))]
                items = [BillItem("DEPOSIT", "住院预交金", "C", 10_000, amount, 1)]
            else:
                items = self._items(hospital_code, patient_id, kind)
            bill_no = self._bill_no(hospital_code, patient_id, index)
            bills.append(HisBill(bill_no, hospital_code, patient_id, kind, DEPARTMENTS[kind], tuple(items)))
        # Extra bills (benchmarks, the crash test: tens a patient) come from one seeded generator
        # per patient, not a SHA-256 per draw: still deterministic, a fraction of the CPU.
        draws = random.Random(f"{self.behaviour.seed}|extra|{hospital_code}|{patient_id}")
        for extra in range(self.extra_bills):  # the number names the patient (see mark_paid)
            items = self._items(hospital_code, patient_id, "exam", draw=draws.random)
            bills.append(HisBill(f"{hospital_code}-X{patient_id}.{extra:04d}", hospital_code, patient_id,
                                 "exam", DEPARTMENTS["exam"], tuple(items)))  # fmt: skip
        return bills

    def _items(
        self, hospital_code: str, patient_id: str, kind: str, *, draw: Callable[[], float] | None = None
    ) -> list[BillItem]:
        """A bill's lines, each roll from the seed and its name (or from ``draw``, in turn)."""

        def chance(*parts: object) -> float:
            return draw() if draw is not None else self.behaviour.chance(*parts)

        catalogue = CATALOGUE[kind]
        count = 1 if kind == "registration" else 1 + int(chance("lines", hospital_code, patient_id, kind) * 3)
        items: list[BillItem] = []
        for line in range(count):
            roll = chance("item", hospital_code, patient_id, kind, line)
            code, name, category, share, price = catalogue[int(roll * len(catalogue))]
            if any(item.code == code for item in items):
                continue
            quantity = 1 if kind != "drug" else 1 + int(chance("qty", patient_id, kind, line) * 3)
            items.append(BillItem(code, name, category, share, price, quantity))
        return items

    def _bill_no(self, hospital_code: str, patient_id: str, index: int) -> str:
        digest = hashlib.sha256(f"{self.behaviour.seed}|bill|{hospital_code}|{patient_id}|{index}".encode()).hexdigest()
        return f"{hospital_code}-B{int(digest[:12], 16) % 10**10:010d}"

    def export(self) -> list[dict[str, str]]:
        return [asdict(p) for p in self.patients.values()]


Record = tuple[Any, ...]
"""A bill as the sandbox keeps it: a plain tuple of strings, numbers and plain tuples (its items,
its refunds). The garbage collector stops tracking such tuples, so a sandbox holding tens of
thousands of bills (benchmarks) adds nothing to the app's full collections; as dataclasses they
made each one walk ~200,000 objects (~100 ms with the event loop stopped)."""


def _record(bill: HisBill) -> Record:
    items = tuple(
        (i.code, i.name, i.category, i.self_pay_share_bp, i.unit_price, i.quantity) for i in bill.items
    )  # fmt: skip
    return (bill.bill_no, bill.hospital_code, bill.patient_id, bill.kind, bill.department, items, bill.status,
            bill.payment_reference, bill.refunds)  # fmt: skip


def _bill(record: Record) -> HisBill:
    number, hospital, patient, kind, department, items, status, reference, refunds = record
    return HisBill(number, hospital, patient, kind, department, tuple(BillItem(*item) for item in items), status,
                   reference, refunds)  # fmt: skip
