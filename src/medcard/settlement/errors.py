"""Settlement errors: stable codes, zh-CN + English text and a hint."""

from __future__ import annotations

from medcard.errors import MedCardError
from medcard.i18n import N_, NC_


class BillNotFound(MedCardError):
    status = 404
    code = "BILL_NOT_FOUND"
    message = N_("Bill not found")
    hint = N_("Refresh the list of bills to pay.")


class BillAlreadyPaid(MedCardError):
    status = 409
    code = "BILL_ALREADY_PAID"
    message = N_("This bill is already paid")
    hint = N_("See it in your payment history.")


class OrderNotPending(MedCardError):
    status = 409
    code = "ORDER_NOT_PENDING"
    message = N_("This order is already paid or expired")
    hint = NC_("ORDER_NOT_PENDING", "An expired order released its holds; start a new payment.")


class OrderNotPaid(MedCardError):
    status = 409
    code = "ORDER_NOT_PAID"
    message = NC_("ORDER_NOT_PAID", "The order is not paid, so it cannot be refunded")
    hint = N_("A pending order releases its holds after 15 minutes.")


class RefundTooLarge(MedCardError):
    status = 409
    code = "REFUND_TOO_LARGE"
    message = NC_("REFUND_TOO_LARGE", "The refund exceeds what can be refunded ({refundable_yuan} yuan)")
    hint = N_("Each source gets back at most what it paid.")


class RefundWaitsForReimbursement(MedCardError):
    status = 409
    code = "REFUND_WAITS_FOR_REIMBURSEMENT"
    message = NC_(
        "REFUND_WAITS_FOR_REIMBURSEMENT", "The insurance reimbursement is still due: only a full refund is possible now"
    )
    hint = N_("A partial refund is possible once the reimbursement was paid.")


class CreditNotOffered(MedCardError):
    status = 409
    code = "CREDIT_NOT_OFFERED"
    message = N_("This hospital does not offer treat-first-pay-later credit")
    hint = N_("Pay another way.")


class PaymentPending(MedCardError):
    """The order and its holds are kept (15 minutes) but a step did not finish: the client
    retries with the same Idempotency-Key (R-PAY-07) and nothing is charged twice."""

    status = 402
    code = "PAYMENT_PENDING"
    message = NC_("PAYMENT_PENDING", "The payment did not complete ({failure_code}); the order is kept for 15 minutes")
    hint = NC_(
        "PAYMENT_PENDING", "Retry the same request shortly (common when money just arrived); nothing is charged twice."
    )
    keep_changes = True


class InsuranceRefusedPayment(MedCardError):
    """The platform refused the insurance shares for good (not a timeout): every hold was
    released at once; a new payment gets a fresh split."""

    status = 409
    code = "INSURANCE_REFUSED_PAYMENT"
    message = NC_(
        "INSURANCE_REFUSED_PAYMENT",
        "The insurance platform refused the settlement ({failure_code}); every hold was released",
    )
    hint = NC_(
        "INSURANCE_REFUSED_PAYMENT",
        "Pay again: the split is computed afresh from the current personal-account balance.",
    )
    keep_changes = True


class ChannelRefused(MedCardError):
    status = 402
    code = "CHANNEL_REFUSED"
    message = NC_("CHANNEL_REFUSED", "The payment channel did not complete the charge ({channel_code})")
    hint = NC_(
        "CHANNEL_REFUSED",
        "The order is kept for 15 minutes; retry with the same request (common when money just arrived).",
    )


class RepaymentTooLarge(MedCardError):
    status = 409
    code = "REPAYMENT_TOO_LARGE"
    message = NC_("REPAYMENT_TOO_LARGE", "The repayment exceeds what is owed ({owed_yuan} yuan)")
    hint = N_("Repay at most what is owed.")


class KeyReused(MedCardError):
    """The same key named another request (checked again on the order, behind the key store)."""

    status = 422
    code = "IDEMPOTENCY_KEY_REUSED"
    message = N_("This idempotency key was used for a different request")
    hint = NC_("IDEMPOTENCY_KEY_REUSED", "Use a new key for a new payment; resend a retry unchanged.")


class RefundAtTheWindow(MedCardError):
    status = 409
    code = "REFUND_AT_THE_WINDOW"
    message = NC_("REFUND_AT_THE_WINDOW", "This order was paid at a window or pharmacy; refunds are made there")
    hint = N_("Bring your card to the window or pharmacy where you paid.")
