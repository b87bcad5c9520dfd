"""What the project's Celery tasks share."""

from __future__ import annotations

from smtplib import SMTPException

# An e-mail task retries when the mail server fails or cannot be reached: after a minute, then backing off
# up to an hour between tries, eight times (about five hours) before it gives up.
MAIL_RETRY: dict[str, object] = {
    "autoretry_for": (SMTPException, OSError),
    "retry_backoff": 60,
    "retry_backoff_max": 3600,
    "max_retries": 8,
}
