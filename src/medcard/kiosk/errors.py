"""Kiosk refusals, each with a stable code, zh-CN and English text and a hint for the kiosk.

A forged, stale or frozen/cancelled card's display code is refused by the card core
(``CARD_QR_INVALID``, ``CARD_QR_STALE``, ``CARD_NOT_ACTIVE``) before these apply."""

from __future__ import annotations

from medcard.errors import MedCardError, NotFound


class CardNotFound(NotFound):
    """No card of this kiosk's hospital matches (also when it belongs to another hospital)."""

    code = "CARD_NOT_FOUND"
    message_zh = "未找到本院的电子健康卡"
    message_en = "No health card of this hospital matches"
    hint_zh = "请确认患者出示的是本院的电子健康卡。"
    hint_en = "Check that the patient shows this hospital's health card."


class CardPendingActivation(MedCardError):
    """R-ID-06: the hospital wants the holder seen in person with the original ID card first."""

    status = 409
    code = "CARD_PENDING_ACTIVATION"
    message_zh = "该卡尚未激活"
    message_en = "This card is not activated yet"
    hint_zh = "本院要求持身份证原件在自助机激活：请在读卡器上放置身份证，激活后再制卡。"
    hint_en = "This hospital requires in-person activation: place the original ID card on the reader first."


class CardAlreadyActive(MedCardError):
    status = 409
    code = "CARD_ALREADY_ACTIVE"
    message_zh = "该卡已激活，无需重复激活"
    message_en = "This card is already active"
    hint_zh = "可直接制卡或办理其他业务。"
    hint_en = "You can issue the physical card or use other services right away."


class ActivationDocumentMismatch(MedCardError):
    """R-ID-06: the ID card on the reader is not the card holder's."""

    status = 403
    code = "ACTIVATION_DOCUMENT_MISMATCH"
    message_zh = "身份证与电子健康卡登记的证件号码不一致"
    message_en = "The ID card does not match the health card's document number"
    hint_zh = "请持卡人本人放置自己的身份证原件；如证件已更换，请到人工窗口办理。"
    hint_en = "The card holder must place their own original ID card; if it was replaced, go to a service window."


class ReissueReasonRequired(MedCardError):
    """R-CARD-08: one physical card per e-card; replacing it needs a reason."""

    status = 409
    code = "PHYSICAL_CARD_REISSUE_REASON_REQUIRED"
    message_zh = "该卡已有实体卡，补办须选择原因"
    message_en = "A physical card was already issued; a replacement needs a reason"
    hint_zh = "请选择补办原因（遗失、损坏、信息变更或其他），原实体卡将作废。"
    hint_en = "Choose why it is replaced (lost, damaged, details changed, other); the old card stops working."


class PhysicalCardRequired(MedCardError):
    """R-CARD-11: printing records, special exams and the insurance fee list need the physical card."""

    status = 409
    code = "PHYSICAL_CARD_REQUIRED"
    message_zh = "“{service_zh}”需要实体就诊卡"
    message_en = "“{service_en}” needs a physical card"
    hint_zh = "请先在本机点击“制卡”办理实体卡，再办理此业务。"
    hint_en = "Issue a physical card first with “Issue physical card”, then try again."


class KioskServiceUnknown(NotFound):
    # Slugs in the hint are what an API client sends; the kiosk page only offers the three.
    code = "KIOSK_SERVICE_UNKNOWN"
    message_zh = "自助机没有该项业务"
    message_en = "The kiosk offers no such service"
    hint_zh = (
        "可办理：打印病历（print_records）、特殊检查登记（special_exam_registration）、"
        "打印医保费用清单（print_insurance_fee_list）。"
    )
    hint_en = "Available: print_records, special_exam_registration, print_insurance_fee_list."


class FeePaymentRequired(MedCardError):
    status = 422
    code = "CARD_FEE_PAYMENT_REQUIRED"
    message_zh = "请先选择工本费的支付方式"
    message_en = "Choose how the card fee is paid first"
    hint_zh = "可微信支付、从预交金扣除，或选择到收费窗口缴费；选择后才会出卡。"
    hint_en = (
        "Pay by the payment channel, from the deposit, or choose to pay at the window; the card is issued after that."
    )
