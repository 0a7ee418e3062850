"""SMS gateway. Templates carry no links (R-SEC-09); the sandbox keeps an outbox."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Protocol

from medcard.adapters.sandbox import SandboxBehaviour
from medcard.kit.clock import clock

# Template code -> (zh-CN text, English text). No URLs, ever: patients are told we never send links.
TEMPLATES: dict[str, tuple[str, str]] = {
    "verify_code": (
        "【MedCard】验证码 {code}，{minutes} 分钟内有效。请勿告诉他人，工作人员不会索要验证码。",
        "[MedCard] Code {code}, valid for {minutes} minutes. Never share it; staff will never ask for it.",
    ),
    "existing_record": (
        "【MedCard】您正在关联{hospital}的就诊档案，验证码 {code}，{minutes} 分钟内有效。",
        "[MedCard] Code {code} to link your record at {hospital}, valid for {minutes} minutes.",
    ),
    "reimbursed": (
        "【MedCard】您在{hospital}缴费单 {bill} 的医保报销 {amount} 元已退回原支付方式。",
        "[MedCard] The insurance reimbursement of {amount} yuan for bill {bill} at {hospital} was paid back.",
    ),
}


@dataclass(frozen=True)
class SentMessage:
    """One message as the gateway accepted it."""

    message_id: str
    phone: str
    template: str
    text: str
    sent_at: str


class SmsGateway(Protocol):
    """Sends templated text messages."""

    async def send(self, phone: str, template: str, params: dict[str, str]) -> SentMessage: ...


class SandboxSms:
    """Keeps the last 500 messages in memory instead of sending them (shown on /sandbox/sms)."""

    def __init__(self, behaviour: SandboxBehaviour) -> None:
        self.behaviour = behaviour
        self.outbox: deque[SentMessage] = deque(maxlen=500)
        self._counter = 0

    async def send(self, phone: str, template: str, params: dict[str, str]) -> SentMessage:
        await self.behaviour.wait(0.8, phone, self._counter)
        zh, _en = TEMPLATES[template]
        self._counter += 1
        message = SentMessage(
            message_id=f"SBX-SMS-{self._counter:08d}",
            phone=phone,
            template=template,
            text=zh.format(**params),
            sent_at=clock.now().isoformat(),
        )
        self.outbox.append(message)
        return message

    def last_to(self, phone: str) -> SentMessage | None:
        """The newest message sent to ``phone`` (tests and the sandbox inbox page)."""
        return next((m for m in reversed(self.outbox) if m.phone == phone), None)
