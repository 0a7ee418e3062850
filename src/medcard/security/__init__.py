"""Security core: payment password, freeze and loss report, limits, permission settings."""
