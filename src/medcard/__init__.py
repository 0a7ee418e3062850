"""MedCard: electronic health card (电子健康卡), insurance e-voucher and payment platform."""

__version__ = "0.1.0"
