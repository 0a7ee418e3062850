"""The double-entry ledger (R-PAY-01): balanced entries in integer fen, two-phase holds."""
