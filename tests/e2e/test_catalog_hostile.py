"""This stop's new catalog inputs refused with a 4xx problem on both databases: the feed summary's path and
query, and a target whose channel is odd or whose body is hostile."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

BAD_CHANNELS = ["%00", "a" * 5000, "9223372036854775808", "..%2F..", "%F0%9F%92%A9"]


@pytest.mark.parametrize("channel", BAD_CHANNELS)
def test_the_feed_summary_refuses_odd_channels(client: TestClient, channel: str) -> None:
    response = client.get(f"/catalog/feeds/{channel}/summary")
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


def test_the_feed_summary_refuses_an_odd_country(client: TestClient) -> None:
    response = client.get("/catalog/feeds/web-de/summary", params={"country": "\x00" * 3})
    assert 400 <= response.status_code < 500, response.text


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ('{"profile": "web-store", "locale": "de", "extra": 1}', "application/json"),
        ('{"profile": ' + "[" * 200 + "]" * 200 + "}", "application/json"),
        ('{"profile": "web-store\\u0000"}', "application/json"),
        ('{"profile": "web-store", "mapping": {"title": {"source": "title", "truncate": 9223372036854775808}}}',
         "application/json"),
        ("profile=web-store", "application/x-www-form-urlencoded"),
    ],
)  # fmt: skip
def test_a_hostile_target_is_refused(client: TestClient, body: str, content_type: str) -> None:
    response = client.put("/catalog/targets/web-de", content=body, headers={"content-type": content_type})
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
