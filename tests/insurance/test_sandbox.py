"""The insurance platform sandbox: 1101 message shapes and R-INS-04 binding success rates."""

from __future__ import annotations

from collections import Counter

from medcard.adapters.insurance import SandboxInsurancePlatform
from medcard.adapters.sandbox import SandboxBehaviour


async def test_r_ins_04_sandbox_reproduces_binding_success_by_scheme() -> None:
    platform = SandboxInsurancePlatform(SandboxBehaviour(seed=7))
    tried: Counter[str] = Counter()
    bound: Counter[str] = Counter()
    for number, name in platform.population(12_000):
        answer = await platform.person_query({"infno": "1101", "input": {"data": {"certno": number, "psn_name": name}}})
        if answer["infcode"] != 0:
            continue
        insured = answer["output"]["insuinfo"][0]
        scheme = insured["insutype"]
        if scheme not in {"310", "390", "380"}:
            continue
        data = {"psn_no": answer["output"]["baseinfo"]["psn_no"], "insutype": scheme, "face_image": b"selfie"}
        tried[scheme] += 1
        bound[scheme] += (await platform.activate_voucher({"input": {"data": data}}))["infcode"] == 0
    rates = {scheme: bound[scheme] / tried[scheme] for scheme in tried}
    assert abs(rates["310"] - 0.913) < 0.02
    assert abs(rates["390"] - 0.876) < 0.025
    assert abs(rates["380"] - 0.642) < 0.04
    assert min(tried.values()) > 800


async def test_r_ins_08_population_holds_the_awkward_cases() -> None:
    platform = SandboxInsurancePlatform(SandboxBehaviour(seed=7))
    cases = Counter(platform.person(number, name).case for number, name in platform.population(3_000))
    regions = {platform.person(number, name).region_code for number, name in platform.population(50)}
    awkward = ("newly_insured", "bank_not_activated", "not_synced", "rare_character", "retired_cadre", "public_medical")
    for case in awkward:
        assert cases[case] > 0, case
    assert regions == {"110000", "310000", "440100", "440300", "510100"}
