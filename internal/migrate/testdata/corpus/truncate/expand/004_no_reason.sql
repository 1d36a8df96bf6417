-- bascule:allow truncate
TRUNCATE rate_limits, login_attempts;
