"""The ad platforms simulator on the wire, without a connector: objects created by each platform's create
request, a batch over the limit refused as a violation, and Google's all-or-nothing mutate."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from keel.media.model import AdState, Level, Platform, Status
from keel.sim.adplatform import AdPlatforms

ACCOUNT = "acct-1"
TOKENS = {Platform.AMAZON: "tok-amazon", Platform.GOOGLE: "tok-google", Platform.META: "tok-meta"}
CAMPAIGN = AdState(Status.ENABLED, budget=1000)


@pytest.fixture
def sim() -> Iterator[AdPlatforms]:
    with AdPlatforms({token: (platform, ACCOUNT) for platform, token in TOKENS.items()}) as s:
        yield s


def post(sim: AdPlatforms, platform: Platform, path: str, body: object, method: str = "POST") -> httpx.Response:
    headers = {"Authorization": f"Bearer {TOKENS[platform]}"}
    return httpx.request(method, sim.url(platform) + path, json=body, headers=headers)


def test_each_platform_creates_objects_once(sim: AdPlatforms) -> None:
    # when each platform is asked to create campaign c1 twice in one request
    amazon = post(
        sim,
        Platform.AMAZON,
        "/v1/profiles/acct-1/campaigns",
        {"campaigns": [{"campaignId": "c1", "state": "ENABLED", "dailyBudget": 1000}] * 2},
    )
    create = {
        "campaignOperation": {
            "create": {"resourceName": "customers/acct-1/campaigns/c1", "status": "ENABLED", "budgetAmountMinor": 1000}
        }
    }
    google = post(
        sim, Platform.GOOGLE, "/v1/customers/acct-1:mutate", {"mutateOperations": [create] * 2, "partialFailure": True}
    )
    meta = post(sim, Platform.META, "/v1/act_acct-1/batch",
                {"batch": [{"method": "POST", "relative_url": "campaigns",
                            "body": {"id": "c1", "status": "ACTIVE", "daily_budget": 1000}}] * 2})  # fmt: skip
    # then the first creates it and the second is refused as a duplicate, each in its platform's words
    assert amazon.status_code == 207
    assert amazon.json() == {"campaigns": {
        "success": [{"index": 0, "id": "c1"}],
        "error": [{"index": 1, "id": "c1", "code": "DUPLICATE_VALUE", "message": "campaign c1 exists"}],
    }}  # fmt: skip
    assert google.status_code == 200
    assert google.json()["results"] == [{"resourceName": "customers/acct-1/campaigns/c1"}, {}]
    errors = google.json()["partialFailureError"]["details"][0]["errors"]
    assert [(e["errorCode"], e["location"]) for e in errors] == [
        ({"mutateError": "RESOURCE_ALREADY_EXISTS"}, {"operationIndex": 1})
    ]
    assert meta.status_code == 200
    assert [(a["code"], a["body"].get("error", {}).get("code")) for a in meta.json()] == [(200, None), (400, 100)]
    for platform in Platform:
        assert sim.state(platform, ACCOUNT) == {(Level.CAMPAIGN, "c1"): CAMPAIGN}
    assert len(sim.accepted_log) == 3
    assert sim.violations == 0


@pytest.mark.parametrize(
    ("platform", "path", "body", "answer"),
    [
        (Platform.AMAZON, "/v1/profiles/acct-1/productAds", {"productAds": [{"adId": "x"}] * 1001},
         {"code": "INVALID_ARGUMENT"}),
        (Platform.GOOGLE, "/v1/customers/acct-1:mutate", {"mutateOperations": [{}] * 10_001, "partialFailure": True},
         {"code": 400, "status": "INVALID_ARGUMENT"}),
        (Platform.META, "/v1/act_acct-1/batch", {"batch": [{}] * 51}, {"code": 1}),
    ],
)  # fmt: skip
def test_the_simulator_refuses_an_oversized_batch_as_a_violation(
    sim: AdPlatforms, platform: Platform, path: str, body: object, answer: dict[str, object]
) -> None:
    # given a client that does not batch (a raw request past the platform's limit)
    response = post(sim, platform, path, body, "PUT" if platform is Platform.AMAZON else "POST")
    # then it is refused whole, counted as a violation, and nothing changed
    assert response.status_code == 400
    doc = response.json()
    error = doc if platform is Platform.AMAZON else doc["error"]
    assert {k: error[k] for k in answer} == answer
    assert sim.violations_by_kind == {"batch_size": 1}
    assert sim.state(platform, ACCOUNT) == {}


def test_google_without_partial_failure_applies_all_or_nothing(sim: AdPlatforms) -> None:
    sim.seed(Platform.GOOGLE, ACCOUNT, Level.CAMPAIGN, "c1", CAMPAIGN)
    update = {"campaignOperation": {"update": {"resourceName": "customers/acct-1/campaigns/c1", "status": "PAUSED"}}}
    ghost = {"campaignOperation": {"update": {"resourceName": "customers/acct-1/campaigns/c2", "status": "PAUSED"}}}
    response = post(sim, Platform.GOOGLE, "/v1/customers/acct-1:mutate", {"mutateOperations": [update, ghost]})
    assert response.status_code == 400
    errors = response.json()["error"]["details"][0]["errors"]
    assert [(e["errorCode"], e["location"]) for e in errors] == [
        ({"mutateError": "RESOURCE_NOT_FOUND"}, {"operationIndex": 1})
    ]
    assert sim.state(Platform.GOOGLE, ACCOUNT) == {(Level.CAMPAIGN, "c1"): CAMPAIGN}
    assert sim.accepted_log == []
