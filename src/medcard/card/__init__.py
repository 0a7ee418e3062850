"""Electronic health cards (电子健康卡): application, numbers, QR codes, kiosk issuance."""
