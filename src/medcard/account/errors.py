"""Errors of the patient's own account."""

from __future__ import annotations

from medcard.errors import MedCardError


class ConsentRequired(MedCardError):
    status = 403
    code = "CONSENT_REQUIRED"
    message_zh = "请先阅读并同意用户协议、隐私政策和个人信息处理授权"
    message_en = "Please read and accept the terms, the privacy policy and the consent to process personal information"
    hint_zh = "同意后即可继续实名认证"
    hint_en = "Accept them to go on with the verification"


class ConsentVersionStale(MedCardError):
    status = 409
    code = "CONSENT_VERSION_STALE"
    message_zh = "协议已更新，请阅读最新版本后再同意"
    message_en = "The agreements changed; read the current version and accept it"
    hint_zh = "刷新页面查看最新版本"
    hint_en = "Reload the page to see the current version"


class DeletionNotConfirmed(MedCardError):
    status = 400
    code = "DELETION_NOT_CONFIRMED"
    message_zh = "请输入“确认注销”以注销账号"
    message_en = "Type DELETE to delete the account"
    hint_zh = "注销后不可恢复"
    hint_en = "Deletion cannot be undone"
