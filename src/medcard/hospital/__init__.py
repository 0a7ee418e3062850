"""Hospitals and their card settings (R-ID-06, R-ID-08, R-CARD-08…10), edited by an administrator."""
