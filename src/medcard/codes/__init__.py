"""The three codes (三码分离，R-SEC-01/02): display code, dynamic payment code, POS verification code."""
