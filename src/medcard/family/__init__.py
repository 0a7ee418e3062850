"""Family accounts (家庭代办): patients managed from one account, proof, switch patient, proxies."""
