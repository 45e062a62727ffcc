"""Text that is safe in a mail: one line per field, subjects and bodies within SNS's limits."""

from __future__ import annotations

# SNS rejects subjects of 100 characters or more, non-ASCII text and line breaks.
SUBJECT_LIMIT = 99
# SNS accepts messages up to 262,144 bytes; fields are capped at parse time, this is the last guard.
BODY_LIMIT_BYTES = 256 * 1024
# " in <12-digit id>" (or " in unknown account") takes at most this much of a subject, and with
# " (<alias>)" at most the second.
ID_IN_SUBJECT = 20
ACCOUNT_IN_SUBJECT = 40


def one_line(text: str) -> str:
    """The text as one line: a line break or control character in a field must not forge a mail line."""
    if text.isascii() and text.isprintable():
        return text
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


def ascii_only(text: str) -> str:
    if text.isascii() and text.isprintable():
        return text
    return "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in text)


def within_body_limit(body: str) -> str:
    encoded = body.encode("utf-8")
    if len(encoded) <= BODY_LIMIT_BYTES:
        return body
    return encoded[: BODY_LIMIT_BYTES - 16].decode("utf-8", "ignore") + "\n[cut]\n"


def account_label(account_id: str, alias: str = "") -> str:
    """The account as mails name it: the id, and the alias when known."""
    account = account_id or "unknown account"
    return f"{account} ({alias})" if alias else account


def subject_account(account_id: str, alias: str = "") -> str:
    """The subject's account part, ' in <account>'; a long alias is shortened to leave room for what happened."""
    tail = ascii_only(f" in {account_label(account_id, alias)}")
    if len(tail) <= (ACCOUNT_IN_SUBJECT if alias else ID_IN_SUBJECT):
        return tail
    return tail[: ACCOUNT_IN_SUBJECT - 4] + "...)" if alias else tail[:ID_IN_SUBJECT]
