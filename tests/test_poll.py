"""The class poll's stores: the same bounds in memory and in a real redis-server."""

from __future__ import annotations

import time

import pytest

from cnnviz import poll
from cnnviz.errors import PollError


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture(params=["memory", "redis"])
def make_store(request):
    """make_store(**bounds) -> (store, wait(seconds)) for each kind of store."""
    if request.param == "memory":
        clock = Clock()

        def wait(seconds):
            clock.now += seconds

        return lambda **bounds: (poll.MemoryPollStore(clock=clock, **bounds), wait)
    url = request.getfixturevalue("redis_url")
    import redis

    redis.Redis.from_url(url).flushdb()
    return lambda **bounds: (poll.open_store(url, **bounds), time.sleep)


def test_a_students_repeated_answers_count_once(make_store):
    store, _ = make_store()
    store.record("K7Q2", "course/3", "voter1", "30")
    store.record("K7Q2", "course/3", "voter1", "31")  # changed their mind
    store.record("K7Q2", "course/3", "voter2", "31")
    store.record("k7q2", "course/3", "voter3", "62")  # the code in lower case is the same
    assert store.tally("K7Q2", "course/3") == {"31": 2, "62": 1}
    assert store.tally("K7Q2", "course/4") == {}
    assert store.tally("ABCD", "course/3") == {}


def test_reset_one_question_or_the_class(make_store):
    store, _ = make_store()
    store.record("K7Q2", "course/1", "v1", "a")
    store.record("K7Q2", "course/2", "v1", "b")
    store.reset("K7Q2", "course/1")
    assert store.tally("K7Q2", "course/1") == {} and store.tally("K7Q2", "course/2") == {"b": 1}
    store.reset("K7Q2")
    assert store.tally("K7Q2", "course/2") == {}


def test_a_class_code_expires_after_its_last_answer(make_store):
    store, wait = make_store(ttl=1.0)
    store.record("K7Q2", "course/1", "v1", "a")
    wait(0.5)
    store.record("K7Q2", "course/1", "v2", "a")  # activity keeps the class alive
    wait(0.7)
    assert store.tally("K7Q2", "course/1") == {"a": 2}
    wait(1.3)
    assert store.tally("K7Q2", "course/1") == {}
    assert "K7Q2" not in store.codes()


def test_a_store_holds_at_most_n_codes_dropping_the_least_recently_active(make_store):
    store, wait = make_store(max_codes=2)
    for code in ("AAAA", "BBBB"):
        store.record(code, "q", "v1", "x")
        wait(0.01)
    store.record("AAAA", "q", "v2", "x")  # AAAA is now the more recently active
    wait(0.01)
    store.record("CCCC", "q", "v1", "x")
    assert sorted(store.codes()) == ["AAAA", "CCCC"]
    assert store.tally("BBBB", "q") == {} and store.tally("AAAA", "q") == {"x": 2}


def test_questions_and_voters_per_class_are_bounded(make_store):
    store, _ = make_store(max_questions=2, max_voters=2)
    store.record("K7Q2", "q1", "v1", "a")
    store.record("K7Q2", "q2", "v1", "a")
    with pytest.raises(PollError, match="already has 2 questions"):
        store.record("K7Q2", "q3", "v1", "a")
    store.record("K7Q2", "q1", "v2", "b")
    store.record("K7Q2", "q1", "v2", "c")  # a known voter may still change their answer
    with pytest.raises(PollError, match="already has 2 answers"):
        store.record("K7Q2", "q1", "v3", "a")
    assert store.tally("K7Q2", "q1") == {"a": 1, "c": 1}


def test_bad_codes_ids_and_answers_are_refused(make_store):
    store, _ = make_store()
    with pytest.raises(PollError, match="not a class code"):
        store.record("no way!", "q", "v1", "a")
    with pytest.raises(PollError, match="question id"):
        store.record("K7Q2", "a question?", "v1", "a")
    with pytest.raises(PollError, match="empty answer"):
        store.record("K7Q2", "q", "v1", "   ")
    store.record("K7Q2", "q", "v1", "x" * 500)
    assert list(store.tally("K7Q2", "q")) == ["x" * poll.MAX_ANSWER]


def test_class_codes_are_short_and_unambiguous():
    codes = {poll.new_class_code() for _ in range(50)}
    assert all(len(c) == 4 and set(c) <= set(poll.CODE_ALPHABET) for c in codes)
    assert not set("01IO") & set(poll.CODE_ALPHABET)
    assert poll.class_code(" k7q2 ") == "K7Q2"
    assert poll.new_voter_id() != poll.new_voter_id()


def test_no_redis_url_means_the_in_process_store():
    assert isinstance(poll.open_store(None), poll.MemoryPollStore)


def test_a_redis_that_is_away_gives_a_clear_message():
    pytest.importorskip("redis")
    from appdriver import free_port

    with pytest.raises(PollError, match="cannot reach its store"):
        poll.open_store(f"redis://127.0.0.1:{free_port()}/0")


def test_the_redis_url_comes_from_the_environment_first(monkeypatch):
    from cnnviz import config

    monkeypatch.delenv(config.REDIS_URL_ENV, raising=False)
    assert config.redis_url() is None
    assert config.redis_url({"redis_url": "redis://secret:6379/0"}) == "redis://secret:6379/0"
    monkeypatch.setenv(config.REDIS_URL_ENV, "redis://env:6379/1")
    assert config.redis_url({"redis_url": "redis://secret:6379/0"}) == "redis://env:6379/1"
