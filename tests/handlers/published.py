"""What the functions published to SNS, as the tests read it."""

from __future__ import annotations

import json


class Recorder:
    """An SNS client that keeps what was published and passes it on."""

    def __init__(self, client) -> None:
        self._client = client
        self.published: list[dict] = []

    def __getattr__(self, name):
        return getattr(self._client, name)

    def publish(self, **request):
        self.published.append(request)
        return self._client.publish(**request)


def entries(request: dict) -> dict:
    assert request["MessageStructure"] == "json"
    return json.loads(request["Message"])
