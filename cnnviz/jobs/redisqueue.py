"""The shared backend: training jobs on an RQ queue in Redis, run by worker processes
that may live on other machines (``python -m cnnviz.jobs.worker``).

Used when a Redis URL is configured (:func:`cnnviz.config.redis_url`). Pages do not
know the difference: the same submit / status / cancel, the same :class:`JobStatus`.

How app servers and workers meet in Redis (every key starts with :data:`PREFIX`):

- **One job per settings.** The id a page holds is the settings key
  (:func:`~cnnviz.jobs.kinds.settings_key`): the same settings on any app server name
  the same job, so a class trains them once. ``current:<id>`` names the *run* that
  answers the job now, an RQ job ``<id[:16]>-<attempt>``. A request joins a queued
  or running run, or gets a finished one's result; after a failed, stopped or lost
  run the next request starts a new attempt. Runs never share keys, so a late word
  from an old attempt cannot overwrite a new one.
- **A run** is an RQ job (queue, dispatch, result, error) plus the hash
  ``run:<run id>`` that app servers and the worker share: ``requests`` and
  ``waiting`` (requests not withdrawn), ``stop``, ``worker``, ``started`` and
  ``ended`` (Redis' clock, the same for every machine), ``progress`` (JSON), a
  readable ``error``, and the ``outcome`` when it did not simply end.
- **Stop.** When the last waiting request is withdrawn the hash gets ``stop``; the
  job's ``should_stop`` reads it (at most every :data:`STOP_POLL_SECONDS`) between
  batches, and a run still queued is cancelled in RQ as well.
- **Liveness.** Each worker writes, every :data:`HEARTBEAT_SECONDS`, the time until
  which it promises to be alive into the sorted set ``workers:<queue>``
  (:data:`WORKER_TTL` ahead; its heartbeat thread, and the training itself between
  batches), and ``busy:<queue>`` names the run it trains. A
  running run whose worker's promise ran out was lost (killed, its machine gone):
  it reads as failed, with a retry, and leaves RQ's started registry. A queued run
  with no live worker says so.
- **Redis away.** Every call raises :class:`QueueUnavailable` with a sentence for
  the page; redis-py reconnects by itself once Redis is back.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable

from cnnviz.errors import CnnvizError
from cnnviz.jobs.estimates import Estimator
from cnnviz.jobs.interface import FORGOTTEN, JobStatus, QueueUnavailable, State, UnknownJob
from cnnviz.jobs.kinds import KINDS, Kind, readable_error, resolve, settings_key

log = logging.getLogger(__name__)

QUEUE_NAME = "cnnviz-training"
PREFIX = "cnnviz:jobs:"
#: a run may train this long before RQ ends it (seconds)
JOB_TIMEOUT = 3600
#: a queued run waits at most this long for a worker
QUEUE_TTL = 6 * 3600
#: a finished run's result is kept this long (as the in-process pool keeps its own)
RESULT_TTL = 6 * 3600
#: a failed, stopped or lost run (its message, its partial result) is kept this long
FAILURE_TTL = 3600
#: how often a worker says it is alive, and how long each word holds
HEARTBEAT_SECONDS = 2.0
WORKER_TTL = 15.0
#: a running job reads its stop flag at most this often
STOP_POLL_SECONDS = 0.2

UNAVAILABLE = ("Training is unavailable right now: the server's training queue (Redis) "
               "cannot be reached, so no run can start or be followed. Everything else on "
               "this page still works; try again in a minute, or tell the lecturer.")
LOST = ("This training failed: the training worker running it stopped before it finished "
        "(it was restarted, or its machine went away). Press the button again to retry.")
NO_WORKER = ("No training worker is running right now, so the queue does not move. Your run "
             "starts as soon as one is started; tell the lecturer.")
TIMED_OUT = ("This training took longer than the server allows ({minutes} min) and was "
             "stopped. Try fewer epochs or fewer images.")


def key(*parts: str) -> str:
    """A key of this backend in Redis: ``key("run", run_id)`` -> "cnnviz:jobs:run:<id>"."""
    return PREFIX + ":".join(parts)


def connect(url: str):
    """A Redis client for ``url`` that gives up on a dead server within seconds (a page
    must say so, not hang). RQ keeps pickled bytes in Redis: no response decoding."""
    import redis

    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=3,
                                health_check_interval=30)


def redis_now(client) -> float:
    """Redis' clock (seconds): the one clock every app server and worker shares."""
    seconds, micro = client.time()
    return seconds + micro / 1e6


def _text(mapping: dict) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in mapping.items()}


def _import_path(target: str | Callable) -> str:
    """A kind's run function as "module:function", the form a worker in another
    process imports (a module-level function is turned into it)."""
    if isinstance(target, str):
        return target
    return f"{target.__module__}:{target.__qualname__}"


@contextlib.contextmanager
def _reachable():
    """Redis failures of the block become :class:`QueueUnavailable` for the page."""
    import redis

    try:
        yield
    except redis.RedisError as error:
        log.warning("training queue unreachable: %s", error)
        raise QueueUnavailable(UNAVAILABLE) from error


class RedisQueue:
    """Jobs on the RQ queue :data:`QUEUE_NAME` in the Redis at ``url`` (or ``client``).

    Run by workers started with ``python -m cnnviz.jobs.worker``; several app
    servers with the same Redis share the queue, the results and the positions.
    """

    def __init__(self, url: str | None = None, *, client=None,
                 kinds: dict[str, Kind] | None = None, estimator: Estimator | None = None,
                 queue_name: str = QUEUE_NAME, job_timeout: int = JOB_TIMEOUT,
                 result_ttl: int = RESULT_TTL, failure_ttl: int = FAILURE_TTL,
                 queue_ttl: int = QUEUE_TTL):
        from rq import Queue

        self.client = client if client is not None else connect(url)
        self.queue = Queue(queue_name, connection=self.client)
        self.kinds = dict(KINDS if kinds is None else kinds)
        self.estimator = estimator or Estimator()
        self.job_timeout, self.result_ttl = job_timeout, result_ttl
        self.failure_ttl, self.queue_ttl = failure_ttl, queue_ttl
        # a run's settings and cost never change: unpickled once per process
        self._settings: OrderedDict[str, tuple[object, tuple | None]] = OrderedDict()
        self._recorded: OrderedDict[str, None] = OrderedDict()  # runs the estimator saw

    # ------------------------------------------------------------------ interface
    def submit(self, kind: str, settings) -> str:
        if kind not in self.kinds:
            raise CnnvizError(f"Unknown kind of job {kind!r}; known: {', '.join(self.kinds)}.")
        job_id = settings_key(kind, settings)
        with _reachable(), self.client.lock(key("lock", job_id), timeout=10,
                                            blocking_timeout=10):
            try:
                run_id, job, fields = self._current(job_id)
                state, _ = self._state(run_id, job, fields)
            except UnknownJob:
                state = None
            joinable = state is State.DONE or (
                state is not None and not state.finished and fields.get("stop") != "1")
            if joinable:  # a stopping run is not joined: it ends with part of a result
                with self.client.pipeline() as pipe:
                    pipe.hincrby(key("run", run_id), "requests", 1)
                    if not state.finished:
                        pipe.hincrby(key("run", run_id), "waiting", 1)
                    pipe.execute()
            else:
                self._enqueue(job_id, kind, settings)
        return job_id

    def status(self, job_id: str) -> JobStatus:
        with _reachable():
            run_id, job, fields = self._current(job_id)
            state, error = self._state(run_id, job, fields)
            now = redis_now(self.client)
            settings, cost = self._settings_of(run_id, job, fields.get("kind", ""))
            position = ahead = 0
            notice = ""
            if state is State.QUEUED:
                alive, busy = self._workers(now)
                place = self.queue.get_job_position(run_id)
                position = (place or 0) + 1  # None: being handed to a worker right now
                ahead = busy + position - 1
                notice = "" if alive else NO_WORKER
            result = None
            if state in (State.DONE, State.CANCELLED):
                result = job.return_value()
            started = float(fields["started"]) if "started" in fields else None
            ended = float(fields["ended"]) if "ended" in fields else None
            elapsed = 0.0 if started is None else (ended or now) - started
            if state is State.DONE and cost is not None and run_id not in self._recorded:
                self._recorded[run_id] = None
                while len(self._recorded) > 256:
                    self._recorded.popitem(last=False)
                self.estimator.record(cost, elapsed)
            return JobStatus(
                job_id, fields.get("kind", ""), state, settings, position, ahead,
                json.loads(fields.get("progress") or "{}"), result, error,
                int(fields.get("requests", 1)), elapsed,
                self.estimator.expected(cost) if cost else None,
                fields.get("stop") == "1" and not state.finished, notice)

    def cancel(self, job_id: str) -> JobStatus:
        with _reachable(), self.client.lock(key("lock", job_id), timeout=10,
                                            blocking_timeout=10):
            run_id, job, fields = self._current(job_id)
            state, _ = self._state(run_id, job, fields)
            run = key("run", run_id)
            if not state.finished and self.client.hincrby(run, "waiting", -1) <= 0:
                self.client.hset(run, mapping={"waiting": 0, "stop": 1})
                if state is State.QUEUED:  # the stop flag covers a run starting just now
                    job.cancel()
                    self.client.hset(run, mapping={"outcome": "cancelled",
                                                   "ended": redis_now(self.client)})
        return self.status(job_id)

    def estimate(self, kind: str, settings) -> float | None:
        cost = self._cost(kind, settings)
        return self.estimator.expected(cost) if cost else None

    # ------------------------------------------------------------------ runs
    def _enqueue(self, job_id: str, kind: str, settings) -> None:
        attempt = self.client.incr(key("attempts", job_id))
        run_id = f"{job_id[:16]}-{attempt}"
        lifetime = self.queue_ttl + self.job_timeout + self.result_ttl
        with self.client.pipeline() as pipe:
            pipe.hset(key("run", run_id), mapping={"kind": kind, "job": job_id, "requests": 1,
                                                   "waiting": 1})
            pipe.expire(key("run", run_id), lifetime)
            pipe.set(key("current", job_id), run_id, ex=lifetime)
            pipe.expire(key("attempts", job_id), lifetime)
            pipe.execute()
        self.queue.enqueue_call(
            "cnnviz.jobs.redisqueue.run_job",
            args=(run_id, _import_path(self.kinds[kind].run), settings),
            job_id=run_id, timeout=self.job_timeout, result_ttl=self.result_ttl,
            failure_ttl=self.failure_ttl, ttl=self.queue_ttl,
            description=f"{kind} {job_id[:12]}")
        self._remember(run_id, settings, self._cost(kind, settings))

    def _current(self, job_id: str):
        """(run id, its RQ job, its hash) for the run answering ``job_id`` now."""
        from rq.exceptions import NoSuchJobError
        from rq.job import Job

        run_id = self.client.get(key("current", job_id))
        fields = _text(self.client.hgetall(key("run", run_id.decode()))) if run_id else {}
        if not fields:
            raise UnknownJob(FORGOTTEN)
        run_id = run_id.decode()
        try:
            job = Job.fetch(run_id, connection=self.client)
        except NoSuchJobError:
            raise UnknownJob(FORGOTTEN) from None
        return run_id, job, fields

    def _state(self, run_id: str, job, fields: dict) -> tuple[State, str]:
        """The run's state, and the sentence for a student when it failed."""
        from rq.job import JobStatus as RQ

        if fields.get("outcome") == "lost":
            return State.FAILED, LOST
        rq_state = job.get_status(refresh=False)
        if rq_state == RQ.FINISHED:
            return (State.CANCELLED if fields.get("stopped") == "1" else State.DONE), ""
        if rq_state == RQ.FAILED:
            latest = job.latest_result()
            exc = (latest.exc_string if latest is not None else None) or ""
            if not fields.get("error") and "AbandonedJobError" in exc:
                return State.FAILED, LOST  # RQ's own heartbeat check found it first
            return State.FAILED, fields.get("error") or readable_error(RuntimeError(exc))
        if rq_state in (RQ.CANCELED, RQ.STOPPED):
            return State.CANCELLED, ""
        if rq_state == RQ.STARTED:
            if self._lost(job, fields):
                self._mark_lost(run_id, job)
                return State.FAILED, LOST
            return State.RUNNING, ""
        return State.QUEUED, ""

    def _lost(self, job, fields: dict) -> bool:
        """True when the worker running ``job`` stopped promising to be alive. A worker
        that never promised (a plain ``rq worker``) is left to RQ's own, slower check."""
        worker = job.worker_name or fields.get("worker")
        if not worker:
            return False
        alive_until = self.client.zscore(key("workers", self.queue.name), worker)
        return alive_until is not None and alive_until < redis_now(self.client)

    def _mark_lost(self, run_id: str, job) -> None:
        """Record the loss for every app server and take the run out of RQ's started
        registry (as RQ itself does, later, for an abandoned job)."""
        from rq.job import JobStatus as RQ

        log.warning("training run %s lost its worker %s", run_id, job.worker_name)
        run = key("run", run_id)
        with self.client.pipeline() as pipe:
            pipe.hset(run, mapping={"outcome": "lost", "ended": redis_now(self.client)})
            pipe.expire(run, self.failure_ttl)
            pipe.hdel(key("busy", self.queue.name), job.worker_name or "")
            job.set_status(RQ.FAILED, pipeline=pipe)
            self.queue.started_job_registry.remove_executions(job, pipeline=pipe)
            pipe.execute()
        self.queue.failed_job_registry.add(job, ttl=self.failure_ttl,
                                           exc_string="cnnviz: the worker stopped mid-run")

    def _workers(self, now: float) -> tuple[int, int]:
        """(live workers, those running a run now)."""
        with self.client.pipeline() as pipe:
            pipe.zrangebyscore(key("workers", self.queue.name), now, "+inf")
            pipe.hkeys(key("busy", self.queue.name))
            alive, busy = pipe.execute()
        if alive:
            return len(alive), len(set(alive) & set(busy))
        # none of ours: perhaps plain `rq worker`s, which RQ itself registers
        from rq import Worker

        known = {name.decode()
                 for name in self.client.zrange(key("workers", self.queue.name), 0, -1)}
        others = [w for w in Worker.all(queue=self.queue) if w.name not in known]
        return len(others), sum(w.get_state() == "busy" for w in others)

    # ------------------------------------------------------------------ settings, costs
    def _cost(self, kind: str, settings) -> tuple[str, float] | None:
        try:
            return resolve(self.kinds[kind].cost)(settings)
        except (CnnvizError, KeyError):
            return None  # the job itself will say what is wrong with the settings

    def _remember(self, run_id: str, settings, cost) -> None:
        self._settings[run_id] = (settings, cost)
        while len(self._settings) > 64:
            self._settings.popitem(last=False)

    def _settings_of(self, run_id: str, job, kind: str) -> tuple[object, tuple | None]:
        if run_id not in self._settings:
            settings = job.args[2]
            self._remember(run_id, settings, self._cost(kind, settings))
        return self._settings[run_id]


# ---------------------------------------------------------------------- in the worker


def run_job(run_id: str, target: str, settings):
    """What a worker runs for a run: the kind's function (``target``, an import path)
    with a ``report`` that publishes progress to the run's hash and a ``should_stop``
    that reads its stop flag. A Redis blip during training loses a report or a look
    at the flag, never the run."""
    import redis
    from rq import get_current_job
    from rq.timeouts import JobTimeoutException

    job = get_current_job()
    client, run = job.connection, key("run", run_id)
    worker = job.worker_name or ""
    client.hset(run, mapping={"worker": worker, "started": redis_now(client)})
    busy = key("busy", job.origin)
    client.hset(busy, worker, run_id)
    # the training thread renews the worker's heartbeat too: a worker whose heartbeat
    # thread is starved on a loaded machine is still alive while its batches go on
    promise = float(client.hget(key("promise", job.origin), worker) or 0)
    looked = {"at": 0.0, "stop": False, "beat": time.monotonic()}

    def should_stop() -> bool:
        now = time.monotonic()
        if now - looked["at"] >= STOP_POLL_SECONDS:
            looked["at"] = now
            try:
                if promise and now - looked["beat"] >= HEARTBEAT_SECONDS:
                    looked["beat"] = now
                    client.zadd(key("workers", job.origin),
                                {worker: redis_now(client) + promise}, gt=True)
                looked["stop"] = client.hget(run, "stop") == b"1"
            except redis.RedisError as error:
                log.warning("run %s: cannot read its stop flag: %s", run_id, error)
        return looked["stop"]

    def report(progress: dict) -> None:
        try:
            client.hset(run, "progress", json.dumps(progress))
        except redis.RedisError as error:
            log.warning("run %s: cannot publish its progress: %s", run_id, error)

    try:
        result = None if should_stop() else resolve(target)(settings, report, should_stop)
    except Exception as error:
        if isinstance(error, JobTimeoutException):
            message = TIMED_OUT.format(minutes=round((job.timeout or JOB_TIMEOUT) / 60))
        else:
            message = readable_error(error)
        client.hset(run, mapping={"error": message, "ended": redis_now(client)})
        client.expire(run, job.failure_ttl or FAILURE_TTL)
        raise
    finally:
        client.hdel(busy, worker)
    looked["at"] = 0.0
    stopped = should_stop()
    client.hset(run, mapping={"ended": redis_now(client), "stopped": int(stopped)})
    client.expire(run, (job.failure_ttl or FAILURE_TTL) if stopped
                  else (job.result_ttl or RESULT_TTL))
    return result
