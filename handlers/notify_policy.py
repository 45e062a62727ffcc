"""Which sign-ins get a mail of their own: the notifyOn setting, without any AWS client.

Replay and the offline plan import this as well as the notifier, so it must not pull in botocore:
the program's own venv (requirements.txt) has no AWS SDK.
"""

from __future__ import annotations

from handlers.signin import SignInRecord

NOTIFY_ALL = "all"
NOTIFY_RISKY = "risky"
NOTIFY_POLICIES = (NOTIFY_ALL, NOTIFY_RISKY)


def wants_mail(record: SignInRecord, notify_on: str) -> bool:
    if not record.is_attempt:
        return False
    if notify_on == NOTIFY_RISKY:
        return bool(record.risk_reasons)
    return True
