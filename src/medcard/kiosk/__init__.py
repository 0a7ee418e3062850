"""The self-service kiosk (自助机): scan the e-card QR, issue the physical card (R-CARD-08),
activate a card in person with the original ID card (R-ID-06), services that still need the
physical card (R-CARD-11)."""
