"""Log lines the functions write that the infrastructure counts.

The handler writes them, a metric filter on the function's log group counts them: both read
this module, so the wording and the filter cannot drift apart.
"""

# The function logs in Lambda's JSON format, where the text of a line is the "message" field.
SKIPPED_LOG_PREFIX = "skipped record"
# SNS accepted a mail but its "sent" mark could not be written: a retry may mail it again.
UNMARKED_LOG_PREFIX = "mail sent but not marked"


def skipped_records_pattern() -> str:
    return _starts_with(SKIPPED_LOG_PREFIX)


def unmarked_mails_pattern() -> str:
    return _starts_with(UNMARKED_LOG_PREFIX)


def _starts_with(prefix: str) -> str:
    return f'{{ $.message = "{prefix}*" }}'


# One line per newly stored sign-in, `{"message": "sign-in", "signIn": {...}}` in Lambda's JSON log format
# (extra fields become top-level keys): a Contributor Insights rule counts sign-ins by country and
# outcome from it, and Logs Insights can query it, without a custom metric per country.
SIGN_IN_LOG_MESSAGE = "sign-in"
NO_COUNTRY = "none"
