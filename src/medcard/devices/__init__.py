"""Devices (设备绑定), abnormal-login detection and WebAuthn step-up (二次验证), R-SEC-04/05/06."""
