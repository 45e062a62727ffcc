"""One publish per alert, read well by every kind of subscriber.

The functions publish with SNS's per-protocol message structure (MessageStructure 'json'):
- "default" is the mail text. Mail subscribers get it (SNS falls back to "default" for a protocol
  without an entry of its own, so an "email" entry would only repeat it and halve the room left);
- "https" is an Amazon Q Developer in chat applications (AWS Chatbot) custom notification, which
  Slack and Microsoft Teams channels show as a card; a generic HTTPS webhook receives the same JSON
  in the "Message" field of SNS's envelope;
- "lambda" is the whole structure again, so a member's hub forwarder can republish it to the hub's
  topic as it is, mail text and chat card alike.

The whole message, all entries together, must stay within SNS's 256 KiB: the mail text is cut
when it has to be, never the card, which is short by construction.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from handlers.text import BODY_LIMIT_BYTES

# SNS's limit for one message, every protocol's entry and the JSON around them included.
MESSAGE_LIMIT_BYTES = 256 * 1024
# A card is a summary; the mail has every line. Slack shows at most 3,000 characters in one text block.
DESCRIPTION_LIMIT = 2_800
MAX_NEXT_STEPS = 5
CUT_NOTE = "(cut here; the mail has every line)"
CHAT_PROTOCOL = "https"
FORWARD_PROTOCOL = "lambda"


def chat_notification(
    subject: str,
    body: str,
    *,
    links: Sequence[tuple[str, str]] = (),
) -> dict[str, Any]:
    """The custom notification for a mail: its subject as title, its labelled lines in a code block.

    The mail's first line repeats the subject in words and is left out; lines holding one of the
    links are left out too, since the links come as next steps, where chat clients make them clickable.
    """
    urls = [url for _, url in links]
    lines = body.splitlines()[1:]
    kept = [line.rstrip() for line in lines if not any(url in line for url in urls)]
    while kept and not kept[0]:
        kept.pop(0)
    while kept and not kept[-1]:
        kept.pop()
    content: dict[str, Any] = {
        "textType": "client-markdown",
        "title": subject,
        "description": _code_block(kept),
    }
    if links:
        content["nextSteps"] = [f"{label}: {url}" for label, url in links[:MAX_NEXT_STEPS]]
    return {"version": "1.0", "source": "custom", "content": content, "metadata": {"summary": subject}}


def _code_block(lines: list[str]) -> str:
    # Backticks in a field would end the block early: the mail's fields are data, not markup.
    lines = [line.replace("```", "'''") for line in lines]
    room = DESCRIPTION_LIMIT - len("```\n\n```") - len(CUT_NOTE) - 1
    shown: list[str] = []
    used = 0
    for line in lines:
        if used + len(line) + 1 > room:
            shown.append(CUT_NOTE)
            break
        shown.append(line)
        used += len(line) + 1
    return "```\n" + "\n".join(shown) + "\n```"


def publish_request(topic_arn: str, subject: str, body: str, chat: Mapping[str, Any]) -> dict[str, str]:
    """The sns.publish arguments for one alert: the structured message, within SNS's size limit."""
    card = json.dumps(chat, ensure_ascii=False, sort_keys=True)
    budget = BODY_LIMIT_BYTES
    while True:
        text = _cut(body, budget)
        message = _structure(text, card)
        size = len(message.encode("utf-8"))
        if size <= MESSAGE_LIMIT_BYTES:
            return {"TopicArn": topic_arn, "Subject": subject, "Message": message, "MessageStructure": "json"}
        # The text appears twice and JSON escapes it differently each time: shrink in proportion,
        # with some room to spare, which settles in a round or two.
        budget = budget * (MESSAGE_LIMIT_BYTES - 4096) // size


def _structure(text: str, card: str) -> str:
    entries = {"default": text, CHAT_PROTOCOL: card}
    forwarded = json.dumps(entries, ensure_ascii=False, sort_keys=True)
    return json.dumps({**entries, FORWARD_PROTOCOL: forwarded}, ensure_ascii=False, sort_keys=True)


def _cut(body: str, budget: int) -> str:
    encoded = body.encode("utf-8")
    if len(encoded) <= budget:
        return body
    return encoded[: max(0, budget - 16)].decode("utf-8", "ignore") + "\n[cut]\n"


def structured_entries(message: str) -> dict[str, str] | None:
    """The per-protocol entries a forwarded message carries, or None for anything else.

    A function subscribed to the topic receives the "lambda" entry: this structure as JSON. Anything
    that is not exactly that (a CloudWatch alarm document, plain text) is not one.
    """
    if not message.startswith("{"):
        return None
    try:
        document = json.loads(message)
    except ValueError:
        return None
    if (
        isinstance(document, dict)
        and set(document) == {"default", CHAT_PROTOCOL}
        and all(isinstance(value, str) for value in document.values())
    ):
        return document
    return None
