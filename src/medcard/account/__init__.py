"""The patient's own account: consent to the agreements (versioned), elder mode, deletion (注销)."""
