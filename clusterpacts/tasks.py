"""Celery tasks of clusterpacts: thin, safe to retry (STYLE.md rule 6).

The workflow e-mail task lives beside what it sends, in `notifications.py`; it is named here so that
Celery's autodiscovery (which imports each app's `tasks` module) registers it.
"""

from clusterpacts.notifications import send_transition_mail

__all__ = ["send_transition_mail"]
