"""Code errors: stable codes, zh-CN + English text and a hint."""

from __future__ import annotations

from typing import Any

from medcard.errors import MedCardError
from medcard.security.errors import PinWrong


class DisplayCodeNotPayment(MedCardError):
    status = 400
    code = "DISPLAY_CODE_NOT_PAYMENT"
    message_zh = "这是电子健康卡展示码，不能用于付款"
    message_en = "This is the health card's display code; it cannot pay"
    hint_zh = "请患者打开“付款码”页面出示动态付款码。"
    hint_en = "Ask the patient to open the payment-code page and show the dynamic code."


class PaymentCodeInvalid(MedCardError):
    status = 400
    code = "PAYMENT_CODE_INVALID"
    message_zh = "付款码无效"
    message_en = "The payment code is not valid"
    hint_zh = "请患者刷新付款码后重新扫描。"
    hint_en = "Ask the patient to refresh the code and scan again."


class PaymentCodeExpired(MedCardError):
    status = 410
    code = "PAYMENT_CODE_EXPIRED"
    message_zh = "付款码已过期（有效期 60 秒）"
    message_en = "The payment code has expired (valid 60 seconds)"
    hint_zh = "请患者刷新付款码后重新扫描。"
    hint_en = "Ask the patient to refresh the code and scan again."


class PaymentCodeUsed(MedCardError):
    status = 409
    code = "PAYMENT_CODE_USED"
    message_zh = "付款码已使用，不能重复使用"
    message_en = "The payment code has already been used"
    hint_zh = "每个付款码只能使用一次；截图无效，请刷新。"
    hint_en = "Each code pays once; a screenshot does not work. Refresh the code."


class PaymentCodeRevoked(MedCardError):
    status = 423
    code = "PAYMENT_CODE_REVOKED"
    message_zh = "付款码已作废（账户已冻结）"
    message_en = "The payment code was revoked (the account is frozen)"
    hint_zh = "账户挂失或冻结后，所有付款码失效。"
    hint_en = "A freeze or loss report revokes every payment code."


class CodeCardNotUsable(MedCardError):
    status = 409
    code = "CODE_CARD_NOT_ACTIVE"
    message_zh = "该卡当前不可用于付款"
    message_en = "This card cannot pay right now"
    hint_zh = "请确认电子健康卡已激活。"
    hint_en = "Check that the health card is active."


class CardNotAcceptedHere(MedCardError):
    """R-CARD-05: a hospital-scoped card pays only at its own hospital, a regional card at the
    hospitals of its region."""

    status = 403
    code = "CODE_CARD_OTHER_HOSPITAL"
    message_zh = "该卡不能在本院付款"
    message_en = "This card cannot pay at this hospital"
    hint_zh = "这张电子健康卡只能在发卡医院（区域卡：本区域医院）使用；请在本院申领电子健康卡。"
    hint_en = "The card pays only at the hospital that issued it (a regional card: its region); apply for a card here."


class PinRequired(MedCardError):
    status = 403
    code = "PIN_REQUIRED"
    message_zh = "超过免密额度，需要输入支付密码"
    message_en = "Above the no-password amount; the payment password is required"
    hint_zh = "请患者在密码键盘上输入 6 位支付密码。"
    hint_en = "Ask the patient to enter the 6-digit payment password on the PIN pad."


class AuthorisationInvalid(MedCardError):
    status = 400
    code = "VERIFICATION_CODE_INVALID"
    message_zh = "核验码无效或已被篡改"
    message_en = "The verification code is invalid or was altered"
    hint_zh = "请重新扫描患者付款码。"
    hint_en = "Scan the patient's payment code again."


class AuthorisationExpired(MedCardError):
    status = 410
    code = "VERIFICATION_CODE_EXPIRED"
    message_zh = "核验码已过期"
    message_en = "The verification code has expired"
    hint_zh = "请重新扫描患者付款码。"
    hint_en = "Scan the patient's payment code again."


class AuthorisationOtherMerchant(MedCardError):
    status = 403
    code = "VERIFICATION_CODE_OTHER_MERCHANT"
    message_zh = "核验码不属于本收款方"
    message_en = "The verification code belongs to another merchant"
    hint_zh = "核验码只能在扫码的收款方使用。"
    hint_en = "A verification code is only valid at the merchant that scanned it."


class AuthorisationAmountExceeded(MedCardError):
    status = 403
    code = "VERIFICATION_CODE_AMOUNT_EXCEEDED"
    message_zh = "金额超过核验码授权上限"
    message_en = "The amount is above the verification code's ceiling"
    hint_zh = "请按实际金额重新扫码。"
    hint_en = "Scan again with the real amount."


class PosPinWrong(PinWrong):
    """A wrong payment password at the POS. The code stays consumed for this payment only: the
    cashier may let the patient try again with ``retry_token`` until the authorisation window
    ends, without scanning again; every wrong try still counts toward the lock (R-SEC-03)."""

    hint_zh = "无需重新扫码：请患者在 {window_minutes} 分钟内重新输入支付密码。连续错误 5 次将锁定 3 小时。"
    hint_en = (
        "No need to scan again: the patient may re-enter the password within {window_minutes} minutes. "
        "Five wrong attempts in a row lock it for 3 hours."
    )
    retry_token: str = ""

    def problem(self, instance: str | None = None) -> dict[str, Any]:
        return {**super().problem(instance), "retry_token": self.retry_token}


class PinRetryExpired(MedCardError):
    status = 410
    code = "PIN_RETRY_EXPIRED"
    message_zh = "重输密码的时限已过"
    message_en = "The time to re-enter the password is over"
    hint_zh = "请患者刷新付款码后重新扫码。"
    hint_en = "Ask the patient to refresh the payment code and scan again."
