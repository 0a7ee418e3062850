"""Errors of the policy console."""

from __future__ import annotations

from medcard.errors import MedCardError


class PolicyNotFound(MedCardError):
    status = 404
    code = "POLICY_NOT_FOUND"
    message_zh = "未找到该政策"
    message_en = "Policy not found"
    hint_zh = "请从政策列表中选择。"
    hint_en = "Pick a policy from the list."


class PolicyInvalid(MedCardError):
    status = 422
    code = "POLICY_INVALID"
    message_zh = "政策内容不正确：{reason}"
    message_en = "The policy data is not valid: {reason}"
    hint_zh = "请检查 JSON 格式和字段取值。"
    hint_en = "Check the JSON and the field values."


class PolicyBackdated(MedCardError):
    status = 409
    code = "POLICY_BACKDATED"
    message_zh = "生效日期不能早于今天"
    message_en = "The effective date cannot be in the past"
    hint_zh = "已生效的版本不可改写；请选择今天或以后的日期。"
    hint_en = "Versions in force are never rewritten; choose today or a later date."
