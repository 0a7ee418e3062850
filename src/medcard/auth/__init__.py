"""Login for patients (messaging-app OAuth) and staff (username + password, one role)."""
