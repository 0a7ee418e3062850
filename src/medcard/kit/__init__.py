"""Domain-free helpers: clock, ids, crypto, money, side effects."""
