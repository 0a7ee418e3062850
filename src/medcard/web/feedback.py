"""Refusals of page forms in the product's words (R-A11Y-02).

FastAPI's request validation speaks pydantic ("face_image: Field required", "Input should be a
valid UUID"). The API keeps that detail in problem+json; a page instead names every refused field
at once, by its label, in the page language, with the machine code only as small grey text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# Form field name -> (zh-CN label, English label). Unknown names fall back to a neutral label.
FIELD_LABELS: dict[str, tuple[str, str]] = {
    "amount": ("金额", "Amount"),
    "binding_id": ("医保电子凭证", "Insurance e-voucher"),
    "birth_certificate_number": ("出生医学证明编号", "Birth certificate number"),
    "card_id": ("就诊卡", "Health card"),
    "card_number": ("社保卡号", "Social security card number"),
    "client_ip": ("地址", "Address"),
    "code": ("验证码", "Code"),
    "data": ("政策内容", "Policy data"),
    "destination_region_code": ("就医地", "Where you get care"),
    "disease_code": ("病种", "Disease"),
    "document_number": ("证件号码", "Document number"),
    "document_type": ("证件类型", "Document type"),
    "face_image": ("人脸照片", "Face photo"),
    "field": ("变更项", "Field"),
    "image": ("照片", "Photo"),
    "materials": ("申请材料", "Supporting documents"),
    "method": ("认证方式", "Method"),
    "name": ("姓名", "Name"),
    "nationality": ("国籍", "Nationality"),
    "new_value": ("新值", "New value"),
    "password": ("密码", "Password"),
    "phone": ("手机号", "Phone number"),
    "photo": ("证件照片", "ID photo"),
    "pin": ("支付密码", "Payment password"),
    "proof": ("证明材料", "Proof"),
    "reason": ("原因", "Reason"),
    "region_code": ("所在地", "Region"),
    "retry_token": ("付款码", "Payment code"),
    "scheme": ("险种", "Scheme"),
    "username": ("用户名", "Username"),
}
FALLBACK_LABEL = ("填写内容", "An entry")


def _reason(kind: str, context: Mapping[str, Any], *, is_file: bool) -> tuple[str, str]:
    """What is wrong, in both languages, from pydantic's error ``type``."""
    if kind == "missing":
        return ("请选择文件", "choose a file") if is_file else ("必填，请填写", "is required")
    if kind.startswith("uuid"):
        return "选择无效，请重新选择", "choose again from the list"
    if kind == "string_too_long":
        limit = context.get("max_length", "")
        return f"过长（最多 {limit} 个字符）", f"is too long (at most {limit} characters)"
    if kind == "string_too_short":
        limit = context.get("min_length", "")
        return f"过短（至少 {limit} 个字符）", f"is too short (at least {limit} characters)"
    if kind in ("enum", "literal_error"):
        return "请从列表中选择", "choose one of the options"
    if kind.startswith(("int", "float", "decimal")):
        return "应为数字", "must be a number"
    return "格式不正确", "is not in the expected format"


def field_problems(errors: Iterable[Mapping[str, Any]], lang: str) -> list[dict[str, str]]:
    """One entry per refused field (first reason wins): ``field``, ``label`` and ``text``."""
    seen: dict[str, dict[str, str]] = {}
    for item in errors:
        location = [str(part) for part in item.get("loc", ()) if part not in ("body", "query", "path", "form")]
        name = location[0] if location else ""
        if name in seen:
            continue
        kind = str(item.get("type", ""))
        is_file = name in ("face_image", "image", "photo", "proof", "materials")
        zh, en = _reason(kind, item.get("ctx") or {}, is_file=is_file)
        if name == "face_image" and kind == "missing":
            zh, en = "请拍摄一张本人自拍", "take a selfie"
        label_zh, label_en = FIELD_LABELS.get(name, FALLBACK_LABEL)
        label = label_zh if lang == "zh" else label_en
        seen[name] = {"field": name, "label": label, "text": zh if lang == "zh" else en}
    return list(seen.values())


def validation_view(errors: Iterable[Mapping[str, Any]], lang: str, *, on_form: bool = False) -> dict[str, Any]:
    """The page's ``error`` for a refused form: a summary naming every field, and each field.
    ``on_form`` when the form itself is shown again (each text is then next to its field too)."""
    problems = field_problems(errors, lang)
    if lang == "zh":
        text = f"以下内容需要修改（共 {len(problems)} 项）"
        hint = "请返回上一页，按提示逐项修改后重新提交；已填写的内容仍在。"
    else:
        text = "Please correct {} item{}".format(len(problems), "" if len(problems) == 1 else "s")
        hint = "Go back, correct each item and submit again; what you typed is still there."
    if on_form:
        hint = "请按提示逐项修改后重新提交。" if lang == "zh" else "Correct each item as shown and submit again."
    return {
        "code": "MALFORMED_REQUEST",
        "text": text,
        "hint": hint,
        "field": problems[0]["field"] if problems else "",
        "fields": problems,
    }
