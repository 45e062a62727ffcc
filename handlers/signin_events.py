"""Which CloudTrail events the notifier receives.

Shared by the infrastructure (to build the subscription filter) and the handler
(to decide what counts as a sign-in attempt), so the two cannot drift apart.
"""

SIGNIN_EVENT_SOURCE = "signin.amazonaws.com"

# ExitRole and a successful CredentialVerification are steps of a session, not
# sign-ins: they are kept in the history but never mailed on their own.
SIGNIN_EVENT_NAMES = (
    "ConsoleLogin",
    "SwitchRole",
    "ExitRole",
    "CredentialVerification",
    "UserAuthentication",
)


def subscription_filter_pattern() -> str:
    names = " || ".join(f'($.eventName = "{name}")' for name in SIGNIN_EVENT_NAMES)
    return f'{{ ($.eventSource = "{SIGNIN_EVENT_SOURCE}") && ({names}) }}'
