"""Audit trail of every state change (R-SEC-08, habit 7)."""
