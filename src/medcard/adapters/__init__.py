"""Outside systems behind one interface each, with sandbox implementations beside them."""

from __future__ import annotations

from dataclasses import dataclass

from medcard.adapters.channel import PaymentChannel, SandboxChannel
from medcard.adapters.his import HospitalInformationSystem, SandboxHis
from medcard.adapters.identity import IdentityAuthority, SandboxIdentityAuthority
from medcard.adapters.insurance import InsurancePlatform, SandboxInsurancePlatform
from medcard.adapters.oauth import MessagingOAuth, SandboxOAuth
from medcard.adapters.sandbox import SandboxBehaviour, SandboxFaults
from medcard.adapters.sms import SandboxSms, SmsGateway
from medcard.config import Settings
from medcard.kit.crypto import derive_key


@dataclass
class Adapters:
    """The outside systems one app instance talks to."""

    identity: IdentityAuthority
    sms: SmsGateway
    his: HospitalInformationSystem
    oauth: MessagingOAuth
    insurance: InsurancePlatform
    channel: PaymentChannel


def sandbox_adapters(settings: Settings) -> Adapters:
    """Sandboxes for every outside system, deterministic under ``settings.sandbox_seed``."""
    behaviour = SandboxBehaviour(seed=settings.sandbox_seed, latency_scale=settings.sandbox_latency_scale)
    channel_faults = SandboxFaults(
        timeout_rate=settings.sandbox_channel_timeout_rate,
        failure_rate=settings.sandbox_channel_failure_rate,
        false_insufficient_rate=settings.sandbox_channel_false_insufficient_rate,
        applied_before_timeout_rate=settings.sandbox_applied_before_timeout_rate,
    )
    return Adapters(
        identity=SandboxIdentityAuthority(behaviour),
        sms=SandboxSms(behaviour),
        his=SandboxHis.from_fixture(behaviour, extra_bills=settings.sandbox_his_extra_bills),
        oauth=SandboxOAuth(key=derive_key(settings.secret_key, "sandbox-oauth"), base_url=settings.base_url),
        insurance=SandboxInsurancePlatform(
            behaviour,
            SandboxFaults(
                timeout_rate=settings.sandbox_insurance_timeout_rate,
                applied_before_timeout_rate=settings.sandbox_applied_before_timeout_rate,
            ),
        ),
        channel=SandboxChannel(behaviour, channel_faults),
    )
