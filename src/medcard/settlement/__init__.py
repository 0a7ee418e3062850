"""Settlement: reimbursement rules, order of funds, payment orders, refunds (R-PAY-02…10)."""
