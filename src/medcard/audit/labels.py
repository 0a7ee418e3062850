"""Audit log wording and links for the staff console.

Action codes (``card.issue``) stay stable in the log; people read them as Chinese names
(发卡) with English second, and jump from a row to the record it names where the console
has a page for it and the reader's role may open it (issue 9, staff console; R-SEC-08).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ACTION_LABELS: dict[str, tuple[str, str]] = {
    "account.consent": ("同意协议", "Consent accepted"),
    "account.create": ("创建账户", "Account created"),
    "account.delete": ("注销账户", "Account deleted"),
    "account.elder_mode": ("切换长辈模式", "Elder mode switched"),
    "account.verified": ("完成实名认证", "Account verified"),
    "auth.login": ("登录", "Login"),
    "auth.login_refused": ("登录被拒", "Login refused"),
    "auth.logout": ("退出登录", "Logout"),
    "auth.staff_login": ("工作人员登录", "Staff login"),
    "auth.unlock": ("解除登录锁定", "Login unlocked"),
    "card.activate": ("激活健康卡", "Card activated"),
    "card.bind_existing": ("绑定已有健康卡", "Existing card bound"),
    "card.draft_save": ("保存申领草稿", "Application draft saved"),
    "card.issue": ("发卡", "Card issued"),
    "card.show_name": ("显示全名", "Full name shown"),
    "card.staff_change": ("工作人员修改证件/手机号", "Staff changed document/phone"),
    "card.update": ("修改健康卡信息", "Card updated"),
    "device.bind": ("绑定设备", "Device bound"),
    "device.step_up": ("新设备二次验证", "Device step-up"),
    "device.unbind": ("解绑设备", "Device unbound"),
    "device.webauthn_clone_suspected": ("疑似克隆的安全密钥", "Suspected cloned security key"),
    "device.webauthn_register": ("注册安全密钥", "Security key registered"),
    "family.confirmation_given": ("家人已确认", "Family confirmation given"),
    "family.confirmation_requested": ("请求家人确认", "Family confirmation requested"),
    "family.dissolved": ("解除家庭关系", "Family link dissolved"),
    "family.expired": ("家庭关系到期", "Family link expired"),
    "family.member_add": ("添加家人", "Family member added"),
    "family.proof_view": ("查看关系证明", "Relationship proof viewed"),
    "family.proxy_access": ("代办访问", "Proxy access"),
    "family.review": ("审核家庭关系", "Family link reviewed"),
    "family.switch": ("切换就诊人", "Patient switched"),
    "hospital.create": ("新增医院", "Hospital created"),
    "hospital.settings_update": ("修改医院设置", "Hospital settings updated"),
    "identity.face_attempt": ("人脸核验尝试", "Face check attempt"),
    "identity.session_expired": ("实名认证超时", "Verification expired"),
    "identity.session_failed": ("实名认证失败", "Verification failed"),
    "identity.session_passed": ("实名认证通过", "Verification passed"),
    "identity.session_start": ("开始实名认证", "Verification started"),
    "identity.ward_add": ("添加被监护人", "Ward added"),
    "insurance.bind": ("绑定医保电子凭证", "E-voucher bound"),
    "insurance.filing.cancel": ("取消异地备案", "Out-of-region filing cancelled"),
    "insurance.filing.create": ("异地就医备案", "Out-of-region filing"),
    "insurance.special_disease.apply": ("申请门诊特殊病", "Special disease applied"),
    "insurance.special_disease.review": ("审核门诊特殊病", "Special disease reviewed"),
    "insurance.unbind": ("解绑医保电子凭证", "E-voucher unbound"),
    "keys.rotate": ("轮换密钥", "Keys rotated"),
    "kiosk.service_request": ("自助机服务请求", "Kiosk service request"),
    "person.create": ("建立人员档案", "Person created"),
    "person.phone_confirm": ("确认手机号", "Phone confirmed"),
    "physical_card.issue": ("发放实体卡", "Physical card issued"),
    "physical_card.replace": ("补换实体卡", "Physical card replaced"),
    "policy.seed": ("载入初始政策", "Policy seeded"),
    "policy.version": ("发布政策版本", "Policy version saved"),
    "region.create": ("新增地区", "Region created"),
    "security.freeze": ("冻结支付", "Payments frozen"),
    "security.pin_reset": ("重置支付密码", "Payment password reset"),
    "security.pin_wrong": ("支付密码错误", "Wrong payment password"),
    "security.reactivate": ("解除冻结", "Reactivated"),
    "security.settings": ("修改权限设置", "Permission settings changed"),
    "settlement.credit_repaid": ("归还信用额度", "Credit repaid"),
    "settlement.deposit_top_up": ("预交金充值", "Deposit top-up"),
    "settlement.order_expired": ("订单过期", "Order expired"),
    "settlement.order_open": ("创建订单", "Order opened"),
    "settlement.order_paid": ("订单已支付", "Order paid"),
    "settlement.refund": ("退款", "Refund"),
    "settlement.reimbursed": ("医保报销", "Reimbursed"),
    "sms.check": ("校验短信验证码", "SMS code checked"),
    "sms.send": ("发送短信验证码", "SMS code sent"),
    "staff.create": ("新增工作人员", "Staff created"),
}


def action_label(action: str, lang: str) -> str:
    """The action's name in ``lang`` ("zh" or "en"); an unknown code reads as itself."""
    names = ACTION_LABELS.get(action)
    if names is None:
        return action
    return names[1] if lang == "en" else names[0]


@dataclass(frozen=True)
class _Target:
    roles: tuple[str, ...]
    """Who may open the page (admin always may), as the page's own dependency says."""


_CARD = _Target(("cashier", "hotline"))
_ADMIN = _Target(())
_REVIEWER = _Target(("reviewer",))


def record_link(subject_kind: str, subject_id: str, details: dict[str, Any] | None, role: str) -> str | None:
    """The console page of the row's record, or ``None`` when there is none or ``role`` may not open it."""
    target: _Target
    if subject_kind == "card":
        url, target = f"/console/cards?card_id={subject_id}", _CARD
    elif subject_kind == "hospital":
        url, target = f"/console/hospitals/{subject_id}", _ADMIN
    elif subject_kind == "policy_version":
        kind, key = (details or {}).get("kind"), (details or {}).get("key")
        url = f"/console/policy/{kind}/{key}" if kind and key else "/console/policy"
        target = _ADMIN
    elif subject_kind == "disease_application":
        url, target = "/console/insurance/review", _REVIEWER
    elif subject_kind == "family_member":
        url, target = "/console/family/reviews", _REVIEWER
    else:
        return None
    if role != "admin" and role not in target.roles:
        return None
    return url
