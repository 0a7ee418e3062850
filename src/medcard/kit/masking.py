"""Masking personal data for display and logs (GB/T 35273 minimisation)."""

from __future__ import annotations


def mask_document(number: str) -> str:
    """``110105194912310021`` → ``1101**********0021``."""
    if len(number) <= 8:
        return number[:1] + "*" * (len(number) - 2) + number[-1:] if len(number) > 2 else "**"
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_phone(phone: str) -> str:
    """``13800138000`` → ``138****8000``."""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "****"


def mask_name(name: str) -> str:
    """``张三丰`` → ``*三丰``; Latin names keep the first letter."""
    if not name:
        return ""
    return "*" + name[1:] if len(name) > 1 else "*"
