"""The class poll: a class's answers to a lesson's questions, counted anonymously.

A lecturer gives the class a short code; each student's session has a random
voter id (no names, no accounts). A store keeps, per class code and question,
the latest answer of each voter, so a student who changes their mind counts
once. Two stores with one interface:

- :class:`MemoryPollStore`: in this process, the default. One server needs
  nothing else.
- :class:`RedisPollStore`: in Redis, when a Redis URL is configured
  (:func:`cnnviz.config.redis_url`), so that several app servers share a class.

Both are bounded: a class code expires ``ttl`` seconds after its last answer, a
store holds at most ``max_codes`` codes (the least recently active one is
dropped first), a code at most ``max_questions`` questions, a question at most
``max_voters`` voters, and an answer at most :data:`MAX_ANSWER` characters.

Example::

    store = open_store(None)                       # or open_store("redis://...")
    store.record("K7Q2", "course/3", voter="a1b2", answer="31")
    store.tally("K7Q2", "course/3")               # {"31": 1}
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from cnnviz.errors import PollError

#: A 90-minute class, its break and some questions afterwards.
TTL_SECONDS = 4 * 3600
MAX_CODES = 500
MAX_QUESTIONS = 200
MAX_VOTERS = 1000
MAX_ANSWER = 80
#: Letters and digits that cannot be mistaken for one another on a projector.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_CODE = re.compile(r"^[A-Z0-9]{3,12}$")
_QUESTION = re.compile(r"^[A-Za-z0-9_./:-]{1,80}$")
_VOTER = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def new_class_code(length: int = 4) -> str:
    """A random class code, e.g. "K7Q2"."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def new_voter_id() -> str:
    """A random, anonymous id for one student's session."""
    return secrets.token_hex(8)


def class_code(text: str) -> str:
    """A class code as typed (any case, spaces around it) -> its canonical form.

    Raises ``PollError`` with a message a student understands when it is not one.
    """
    code = str(text).strip().upper()
    if not _CODE.match(code):
        raise PollError(f"“{text}” is not a class code: a class code is 3 to 12 letters "
                        "and digits, e.g. K7Q2.")
    return code


def _check(code: str, question_id: str, voter: str | None = None) -> str:
    code = class_code(code)
    if not _QUESTION.match(question_id):
        raise PollError(f"{question_id!r} is not a question id of the poll.")
    if voter is not None and not _VOTER.match(voter):
        raise PollError(f"{voter!r} is not a voter id of the poll.")
    return code


def _clean_answer(answer: str) -> str:
    text = " ".join(str(answer).split())
    if not text:
        raise PollError("An empty answer cannot be counted.")
    return text[:MAX_ANSWER]


class PollStore(Protocol):
    """What the app needs from a poll store."""

    def record(self, class_code: str, question_id: str, voter: str, answer: str) -> None:
        """Count ``answer`` as ``voter``'s answer, replacing their earlier one."""

    def tally(self, class_code: str, question_id: str) -> dict[str, int]:
        """How many voters gave each answer (empty for an unknown or expired code)."""

    def reset(self, class_code: str, question_id: str | None = None) -> None:
        """Forget the answers to one question, or every answer of the class."""


@dataclass
class _Class:
    last_active: float
    answers: dict[str, dict[str, str]] = field(default_factory=dict)  # question -> voter -> a


class MemoryPollStore:
    """The poll in this process's memory: thread-safe, bounded, nothing to install.

    ``clock`` (seconds, monotonic) is there for tests.
    """

    def __init__(self, *, ttl: float = TTL_SECONDS, max_codes: int = MAX_CODES,
                 max_questions: int = MAX_QUESTIONS, max_voters: int = MAX_VOTERS,
                 clock: Callable[[], float] = time.monotonic):
        self.ttl, self.max_codes = ttl, max_codes
        self.max_questions, self.max_voters = max_questions, max_voters
        self._clock = clock
        self._classes: dict[str, _Class] = {}
        self._lock = threading.Lock()

    def _expire(self, now: float) -> None:
        for code in [c for c, k in self._classes.items() if now - k.last_active >= self.ttl]:
            del self._classes[code]

    def record(self, class_code: str, question_id: str, voter: str, answer: str) -> None:
        code = _check(class_code, question_id, voter)
        answer = _clean_answer(answer)
        with self._lock:
            now = self._clock()
            self._expire(now)
            room = self._classes.get(code)
            if room is None:
                while len(self._classes) >= self.max_codes:  # drop the least recently active
                    del self._classes[min(self._classes,
                                          key=lambda c: self._classes[c].last_active)]
                room = self._classes[code] = _Class(now)
            votes = room.answers.get(question_id)
            if votes is None:
                if len(room.answers) >= self.max_questions:
                    raise PollError(f"Class {code} already has {self.max_questions} questions; "
                                    "start a new class code.")
                votes = room.answers[question_id] = {}
            if voter not in votes and len(votes) >= self.max_voters:
                raise PollError(f"This question already has {self.max_voters} answers in "
                                f"class {code}.")
            votes[voter] = answer
            room.last_active = now

    def tally(self, class_code: str, question_id: str) -> dict[str, int]:
        code = _check(class_code, question_id)
        with self._lock:
            self._expire(self._clock())
            room = self._classes.get(code)
            votes = room.answers.get(question_id, {}) if room else {}
            return dict(Counter(votes.values()))

    def reset(self, class_code: str, question_id: str | None = None) -> None:
        code = _check(class_code, question_id or "all")
        with self._lock:
            room = self._classes.get(code)
            if room is None:
                return
            if question_id is None:
                del self._classes[code]
            else:
                room.answers.pop(question_id, None)

    def codes(self) -> list[str]:
        """The class codes held now."""
        with self._lock:
            self._expire(self._clock())
            return list(self._classes)


class RedisPollStore:
    """The poll in Redis, shared by every app server that uses the same Redis.

    Keys (all under ``prefix``): ``codes``, a sorted set of class codes by the time
    of their last answer; ``<code>:questions``, the set of a class's question ids;
    ``<code>:answers:<question>``, a hash voter -> answer. Every key of a class
    gets the ``ttl`` again with each answer, so Redis itself drops a quiet class.
    """

    def __init__(self, client, *, prefix: str = "cnnviz:poll:", ttl: float = TTL_SECONDS,
                 max_codes: int = MAX_CODES, max_questions: int = MAX_QUESTIONS,
                 max_voters: int = MAX_VOTERS):
        self.client, self.prefix = client, prefix
        self.ttl, self.max_codes = ttl, max_codes
        self.max_questions, self.max_voters = max_questions, max_voters

    @classmethod
    def from_url(cls, url: str, **bounds) -> RedisPollStore:
        """Connect to the Redis at ``url`` (e.g. ``redis://localhost:6379/0``)."""
        import redis

        client = redis.Redis.from_url(url, decode_responses=True, socket_timeout=3,
                                      socket_connect_timeout=3)
        return cls(client, **bounds)

    def _questions_key(self, code: str) -> str:
        return f"{self.prefix}{code}:questions"

    def _answers_key(self, code: str, question_id: str) -> str:
        return f"{self.prefix}{code}:answers:{question_id}"

    def _call(self, action: Callable):
        import redis

        try:
            return action()
        except redis.RedisError as error:
            raise PollError("The class poll cannot reach its store (Redis) right now, so "
                            "answers are not being counted. The page itself still works; "
                            f"tell the lecturer. ({type(error).__name__})") from error

    def record(self, class_code: str, question_id: str, voter: str, answer: str) -> None:
        code = _check(class_code, question_id, voter)
        answer = _clean_answer(answer)
        self._call(lambda: self._record(code, question_id, voter, answer))

    def _record(self, code: str, question_id: str, voter: str, answer: str) -> None:
        r, codes = self.client, f"{self.prefix}codes"
        now = time.time()
        questions, answers = self._questions_key(code), self._answers_key(code, question_id)
        if not r.sismember(questions, question_id) and r.scard(questions) >= self.max_questions:
            raise PollError(f"Class {code} already has {self.max_questions} questions; "
                            "start a new class code.")
        if not r.hexists(answers, voter) and r.hlen(answers) >= self.max_voters:
            raise PollError(f"This question already has {self.max_voters} answers in "
                            f"class {code}.")
        ttl_ms = max(1, int(self.ttl * 1000))
        with r.pipeline() as pipe:
            pipe.zremrangebyscore(codes, "-inf", now - self.ttl)
            pipe.zadd(codes, {code: now})
            pipe.sadd(questions, question_id)
            pipe.hset(answers, voter, answer)
            pipe.pexpire(questions, ttl_ms)
            pipe.pexpire(answers, ttl_ms)
            pipe.execute()
        surplus = r.zcard(codes) - self.max_codes
        if surplus > 0:  # drop the least recently active classes
            for old in r.zrange(codes, 0, surplus - 1):
                if old != code:
                    self._drop(old)

    def _drop(self, code: str) -> None:
        r = self.client
        keys = [self._answers_key(code, q) for q in r.smembers(self._questions_key(code))]
        r.delete(self._questions_key(code), *keys)
        r.zrem(f"{self.prefix}codes", code)

    def tally(self, class_code: str, question_id: str) -> dict[str, int]:
        code = _check(class_code, question_id)
        return self._call(lambda: dict(Counter(
            self.client.hvals(self._answers_key(code, question_id)))))

    def reset(self, class_code: str, question_id: str | None = None) -> None:
        code = _check(class_code, question_id or "all")
        if question_id is None:
            self._call(lambda: self._drop(code))
        else:
            self._call(lambda: (self.client.delete(self._answers_key(code, question_id)),
                                self.client.srem(self._questions_key(code), question_id)))

    def codes(self) -> list[str]:
        """The class codes held now."""
        codes = f"{self.prefix}codes"
        return self._call(lambda: (
            self.client.zremrangebyscore(codes, "-inf", time.time() - self.ttl),
            self.client.zrange(codes, 0, -1))[1])


def open_store(redis_url: str | None, **bounds) -> PollStore:
    """The poll store to use: Redis when a URL is given, this process's memory otherwise.

    Raises ``PollError`` when the Redis at ``redis_url`` cannot be reached.
    """
    if not redis_url:
        return MemoryPollStore(**bounds)
    store = RedisPollStore.from_url(redis_url, **bounds)
    store._call(store.client.ping)
    return store
