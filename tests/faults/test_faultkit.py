"""The exactly-once oracle itself can fail: fed what a real receiver recorded over HTTP,
it refuses a key posted twice with two answered successes (a comparison of key sets
would pass it), and accepts a re-post only after a commit whose answer was never read."""

from __future__ import annotations

import pytest
import requests
from faultkit import Receiver, check_exactly_once


@pytest.fixture
def target():
    r = Receiver()
    yield r
    r.stop()


def post(target: Receiver, key: str) -> None:
    try:
        requests.post(target.url, json={"event_id": key}, headers={"Idempotency-Key": key}, timeout=5)
    except requests.ConnectionError:
        pass  # a scripted "drop": the target committed and closed without answering


def book(*keys: str) -> dict:
    return {"events": {k: "purchase_order.acknowledged" for k in keys},
            "deliveries": {(k, "erp_http"): "delivered" for k in keys}}


def test_one_post_per_key_passes(target):
    for key in ("a", "b"):
        post(target, key)
    check_exactly_once(book("a", "b"), target.posts)


def test_two_answered_posts_of_one_key_fail(target):
    for key in ("a", "a", "b"):
        post(target, key)
    assert {p["key"] for p in target.posts} == {"a", "b"}  # the same set of keys as a correct run
    with pytest.raises(AssertionError, match="a was committed 2 times"):
        check_exactly_once(book("a", "b"), target.posts)


def test_failed_attempts_before_the_success_do_not_count(target):
    target.script = [500, 503]
    for _ in range(3):
        post(target, "a")
    check_exactly_once(book("a"), target.posts)


def test_a_repost_passes_only_after_an_unread_commit_and_only_when_named(target):
    target.script = ["drop"]
    post(target, "a")
    post(target, "a")
    with pytest.raises(AssertionError, match="committed 2 times"):
        check_exactly_once(book("a"), target.posts)
    check_exactly_once(book("a"), target.posts, reposted={"a"})


def test_a_repost_after_an_answered_success_fails_even_when_named(target):
    post(target, "a")
    post(target, "a")
    with pytest.raises(AssertionError, match="never read"):
        check_exactly_once(book("a"), target.posts, reposted={"a"})


def test_a_key_that_is_no_event_or_a_missing_key_fails(target):
    post(target, "a")
    post(target, "stranger")
    with pytest.raises(AssertionError, match="keys that are not"):
        check_exactly_once(book("a"), target.posts)
    with pytest.raises(AssertionError, match="keys that are not"):
        check_exactly_once(book("a", "stranger", "missing"), target.posts)
