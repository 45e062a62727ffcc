import base64
import gzip

import pytest

from handlers.payload import PayloadError, decode_subscription_event, iter_messages
from tests.handlers.events import event, subscription_payload


def test_decodes_records_in_order():
    batch = decode_subscription_event(subscription_payload([event("root_mfa_success"), event("exit_role")]))
    assert not batch.is_control_message
    messages = [raw for _, raw in iter_messages(batch)]
    assert [m["eventID"] for m in messages] == [event("root_mfa_success")["eventID"], event("exit_role")["eventID"]]


def test_control_message_is_recognised():
    batch = decode_subscription_event(
        subscription_payload(["CWL CONTROL MESSAGE: Checking health of destination"], message_type="CONTROL_MESSAGE")
    )
    assert batch.is_control_message


def test_undecodable_message_text_is_passed_on_as_text():
    batch = decode_subscription_event(subscription_payload(["{not json", event("root_mfa_success")]))
    messages = list(iter_messages(batch))
    assert messages[0][1] == "{not json"
    assert isinstance(messages[1][1], dict)


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"awslogs": {}},
        {"awslogs": {"data": "***not base64***"}},
        {"awslogs": {"data": base64.b64encode(b"plain, not gzip").decode()}},
        {"awslogs": {"data": base64.b64encode(gzip.compress(b"[1, 2]")).decode()}},
        "a string",
    ],
)
def test_unreadable_payloads_raise(payload):
    with pytest.raises(PayloadError):
        decode_subscription_event(payload)
