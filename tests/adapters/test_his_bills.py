"""The HIS sandbox's bills: deterministic per patient under the seed, catalogue classes A/B/C,
integer fen, mark-paid once (R-PAY-01, R-PAY-09)."""

from __future__ import annotations

import gc
from collections import Counter

import pytest

from medcard.adapters.his import BillAlreadyPaid, BillItem, SandboxHis
from medcard.adapters.sandbox import SandboxBehaviour


def his(seed: int = 3) -> SandboxHis:
    return SandboxHis(SandboxBehaviour(seed=seed), [])


async def test_r_pay_09_bills_cover_registration_drugs_exams_treatment_and_deposit() -> None:
    sandbox = his()
    kinds: Counter[str] = Counter()
    categories: Counter[str] = Counter()
    for index in range(200):
        for bill in await sandbox.bills(hospital_code="H1", patient_id=f"P{index}"):
            kinds[bill.kind] += 1
            assert bill.total == sum(item.unit_price * item.quantity for item in bill.items) > 0
            for item in bill.items:
                assert isinstance(item.unit_price, int)
                categories[item.category] += 1
                share = item.self_pay_share_bp
                assert {"A": share == 0, "B": 0 < share < 10_000, "C": share == 10_000}[item.category]
    assert kinds["registration"] == 200
    assert min(kinds[kind] for kind in ("drug", "exam", "outpatient", "inpatient_deposit")) > 5
    assert min(categories[category] for category in "ABC") > 10


async def test_bills_are_deterministic_per_patient_under_the_seed() -> None:
    first = await his().bills(hospital_code="H1", patient_id="P7")
    again = await his().bills(hospital_code="H1", patient_id="P7")
    other_seed = await his(seed=4).bills(hospital_code="H1", patient_id="P7")
    assert first == again
    assert [b.bill_no for b in first] != [b.bill_no for b in other_seed]


async def test_mark_paid_once_with_the_payment_reference() -> None:
    sandbox = his()
    bill = (await sandbox.bills(hospital_code="H1", patient_id="P1"))[0]
    paid = await sandbox.mark_paid(hospital_code="H1", bill_no=bill.bill_no, payment_reference="PAY-1")
    assert (paid.status, paid.payment_reference) == ("paid", "PAY-1")
    assert (await sandbox.mark_paid(hospital_code="H1", bill_no=bill.bill_no, payment_reference="PAY-1")) == paid
    with pytest.raises(BillAlreadyPaid):
        await sandbox.mark_paid(hospital_code="H1", bill_no=bill.bill_no, payment_reference="PAY-2")
    listed = {b.bill_no: b for b in await sandbox.bills(hospital_code="H1", patient_id="P1")}
    assert listed[bill.bill_no].status == "paid"


async def test_a_bill_entered_at_the_his_joins_the_list() -> None:
    sandbox = his()
    item = BillItem("XJ01CAA040", "阿莫西林胶囊", "A", 0, 1_250, 2)
    bill = sandbox.add_bill(hospital_code="H1", patient_id="P2", kind="drug", items=[item])
    assert bill.total == 2_500
    assert bill.bill_no in {b.bill_no for b in await sandbox.bills(hospital_code="H1", patient_id="P2")}


async def test_one_bill_by_number_as_listed_and_as_paid() -> None:
    sandbox = his()
    listed = await sandbox.bills(hospital_code="H1", patient_id="P3")
    assert [await sandbox.bill(hospital_code="H1", patient_id="P3", bill_no=b.bill_no) for b in listed] == listed
    assert await sandbox.bill(hospital_code="H1", patient_id="P3", bill_no="NO-SUCH") is None
    assert await sandbox.bill(hospital_code="H1", patient_id="P4", bill_no=listed[0].bill_no) is None
    await sandbox.mark_paid(hospital_code="H1", bill_no=listed[0].bill_no, payment_reference="PAY-3")
    paid = await sandbox.bill(hospital_code="H1", patient_id="P3", bill_no=listed[0].bill_no)
    assert paid is not None and (paid.status, paid.payment_reference, paid.items) == ("paid", "PAY-3", listed[0].items)


async def test_the_bills_kept_are_invisible_to_the_garbage_collector() -> None:
    """Plain tuples the collector stops tracking: a sandbox holding a benchmark's tens of
    thousands of bills must not lengthen the app's full collections (each one stops the event
    loop for as long as it walks)."""
    sandbox = SandboxHis(SandboxBehaviour(seed=3), [], extra_bills=20)
    for index in range(10):
        await sandbox.bills(hospital_code="H1", patient_id=f"P{index}")
    item = BillItem("XJ01CAA040", "阿莫西林胶囊", "A", 0, 1_250, 2)
    entered = sandbox.add_bill(hospital_code="H1", patient_id="P1", kind="drug", items=[item])
    await sandbox.mark_paid(hospital_code="H1", bill_no=entered.bill_no, payment_reference="PAY-4")
    for _ in range(3):  # each full collection untracks one level of nesting: items, bill, then the list
        gc.collect()
    kept = [record for bills in sandbox.patient_bills.values() for record in bills.values()]
    assert len(kept) > 200
    assert not [record for record in kept if gc.is_tracked(record)]
    assert not [bills for bills in sandbox.patient_bills.values() if gc.is_tracked(bills)]
