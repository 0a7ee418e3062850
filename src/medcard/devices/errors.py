"""Device and step-up errors: stable codes, zh-CN + English text and a hint."""

from __future__ import annotations

from medcard.errors import MedCardError


class StepUpRequired(MedCardError):
    """An abnormal login (new device, new region, impossible travel) asks for a second factor
    before sensitive actions (R-SEC-04/06)."""

    status = 403
    code = "STEP_UP_REQUIRED"
    message_zh = "本次登录需要二次验证"
    message_en = "This login needs a second verification"
    hint_zh = "检测到新设备或异地登录。请在“安全设置 → 二次验证”中用指纹/面容或重新实名认证后再操作。"
    hint_en = (
        "A new device or region was detected. Verify with fingerprint / face ID, or verify your "
        "identity again, under Security → Second verification, then try again."
    )


class StepUpFailed(MedCardError):
    status = 403
    code = "STEP_UP_FAILED"
    message_zh = "二次验证未通过"
    message_en = "The second verification failed"
    hint_zh = "请在本设备上重试指纹/面容验证，或改用重新实名认证。"
    hint_en = "Try fingerprint / face ID on this device again, or verify your identity again instead."


class AuthenticatorRegistrationFailed(MedCardError):
    status = 400
    code = "WEBAUTHN_REGISTRATION_FAILED"
    message_zh = "指纹/面容登记失败"
    message_en = "The fingerprint / face ID could not be registered"
    hint_zh = "请重试；本设备需支持指纹或面容识别。"
    hint_en = "Try again; this device needs a fingerprint or face sensor."


class ChallengeMissing(MedCardError):
    status = 409
    code = "WEBAUTHN_CHALLENGE_MISSING"
    message_zh = "验证请求已过期"
    message_en = "The verification request has expired"
    hint_zh = "请重新开始验证。"
    hint_en = "Start the verification again."


class SignCountRegressed(MedCardError):
    """The authenticator's counter went back: a cloned authenticator (R-SEC-04)."""

    status = 403
    code = "WEBAUTHN_SIGN_COUNT_REGRESSED"
    message_zh = "验证器计数异常，已拒绝"
    message_en = "The authenticator's counter went backwards; refused"
    hint_zh = "该验证器可能被复制。请解绑该设备并重新实名认证。"
    hint_en = "The authenticator may have been cloned. Unbind the device and verify your identity again."


class NoAuthenticatorOnDevice(MedCardError):
    status = 409
    code = "WEBAUTHN_NONE_ON_DEVICE"
    message_zh = "本设备尚未登记指纹/面容"
    message_en = "No fingerprint / face ID is registered on this device"
    hint_zh = "请改用重新实名认证（人脸识别或短信）完成二次验证。"
    hint_en = "Verify your identity again (face or SMS) to complete the second verification."
