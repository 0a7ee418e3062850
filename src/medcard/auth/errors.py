"""Authentication errors."""

from __future__ import annotations

from medcard.errors import MedCardError


class InvalidCredentials(MedCardError):
    status = 401
    code = "AUTH_INVALID_CREDENTIALS"
    message_zh = "用户名或密码错误"
    message_en = "Wrong username or password"
    hint_zh = "请检查后重试；多次失败请联系管理员。"
    hint_en = "Check and try again; ask an administrator if it keeps failing."


class OAuthCodeRejected(MedCardError):
    status = 401
    code = "AUTH_OAUTH_CODE_INVALID"
    message_zh = "授权已失效"
    message_en = "The authorisation has expired"
    hint_zh = "请重新点击“微信登录”。"
    hint_en = "Tap “Log in with WeChat” again."


class AccountFrozen(MedCardError):
    status = 403
    code = "ACCOUNT_FROZEN"
    message_zh = "账户已冻结"
    message_en = "The account is frozen"
    hint_zh = "如需解冻，请携带身份证件到服务窗口或拨打服务热线。"
    hint_en = "To unfreeze it, bring your ID to a service window or call the hotline."


class StaffNotFound(MedCardError):
    status = 404
    code = "STAFF_NOT_FOUND"
    message_zh = "没有这个工作人员账号"
    message_en = "No such staff account"
    hint_zh = "请核对用户名；只能解锁本院的工作人员账号。"
    hint_en = "Check the username; you can unlock staff accounts of your own hospital only."
