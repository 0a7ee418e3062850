"""Real-name verification (实名认证): documents, methods, SMS codes, guardianship."""
