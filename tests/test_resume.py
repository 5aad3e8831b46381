"""The resume pattern: numbered messages, a bounded history, replay without loss or duplicates,
and gaps reported, never silent."""

from __future__ import annotations

import json
import random

import pytest

from wsteach.aio.resume import History, Tracker


def deliver(tracker: Tracker, texts: list[str]) -> list[object]:
    return [d.data for d in map(tracker.accept, texts) if d.kind == "message"]


def test_a_newcomer_gets_the_history_and_no_gap_notice():
    history = History(size=3)
    for n in range(5):
        history.add(f"m{n}")
    tracker = Tracker()
    assert deliver(tracker, history.replay_for("/ws")) == ["m2", "m3", "m4"]
    assert tracker.missed == 0 and tracker.last_seq == 5


def test_a_client_that_comes_back_gets_exactly_what_it_missed():
    history = History()
    tracker = Tracker()
    seen = deliver(tracker, history.replay_for("/ws"))
    for n in range(10):
        text = history.add(n).text()
        if n < 4:  # delivered live; then the client is away for 6 messages
            seen += deliver(tracker, [text])
    seen += deliver(tracker, history.replay_for(f"/ws?{tracker.query()}"))
    assert seen == list(range(10))


def test_duplicates_are_dropped():
    history = History()
    tracker = Tracker()
    deliver(tracker, history.replay_for("/ws"))
    texts = [history.add(n).text() for n in range(3)]
    assert deliver(tracker, texts + texts[1:]) == [0, 1, 2]


def test_a_gap_older_than_the_history_is_reported():
    history = History(size=5)
    tracker = Tracker()
    deliver(tracker, history.replay_for("/ws") + [history.add(0).text()])
    for n in range(1, 20):
        history.add(n)
    got = deliver(tracker, history.replay_for(f"/ws?{tracker.query()}"))
    assert got == list(range(15, 20))
    assert tracker.missed == 14  # messages 1-14 (seq 2-15) are gone, and the client knows


def test_a_restarted_server_is_a_new_history_and_says_so():
    old, new = History(), History()
    tracker = Tracker()
    deliver(tracker, old.replay_for("/ws") + [old.add(n).text() for n in range(50)])
    new.add("after the restart")
    replay = new.replay_for(f"/ws?{tracker.query()}")
    got = deliver(tracker, replay)
    assert got == ["after the restart"]  # seq 1 < 50, but not taken for a duplicate
    # What the old server sent while the client was away is lost, and the client is told,
    # with a gap of unknown size: never a silent gap.
    assert {"type": "gap", "missed": None} in [json.loads(text) for text in replay]
    assert tracker.restarts == 1 and tracker.missed == 0


def test_a_first_visit_is_no_restart():
    history = History()
    history.add("x")
    assert [json.loads(t)["type"] for t in history.replay_for("/ws")] == ["hello", "message"]


@pytest.mark.parametrize("query", ["last=abc", "last=-3", "epoch=&last=", "last=999999"])
def test_nonsense_in_the_query_gives_a_sane_replay(query):
    history = History()
    history.add("x")
    kinds = [json.loads(t)["type"] for t in history.replay_for(f"/ws?{query}")]
    assert kinds[0] == "hello" and set(kinds) <= {"hello", "gap", "message"}


def test_random_drops_lose_and_duplicate_nothing():
    rng = random.Random(7)
    history = History(size=100)
    tracker = Tracker()
    seen = deliver(tracker, history.replay_for("/ws"))
    connected = True
    for n in range(500):
        text = history.add(n).text()
        if rng.random() < 0.05:
            connected = not connected
            if connected:  # back: replay, and sometimes a live copy arrives as well
                seen += deliver(tracker, history.replay_for(f"/ws?{tracker.query()}"))
        if connected:
            seen += deliver(tracker, [text] * rng.choice([1, 2]))
    seen += deliver(tracker, history.replay_for(f"/ws?{tracker.query()}"))
    assert tracker.missed == 0
    assert seen == list(range(500))  # every message once, in order
