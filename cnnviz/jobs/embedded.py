"""The embedded backend: a pool of worker threads inside the app's own process.

Nothing to install: ``streamlit run`` and Community Cloud get a FIFO queue with a
visible position and a bounded number of trainings at once (``workers``, default
from ``CNNVIZ_TRAINING_WORKERS``, else 1: on a 2-core server one training already
takes both cores, and a second would slow both and every student's probing pages).

Identical settings are one job: a second request for a queued or running job joins
it, a request for a finished one gets its result at once. Finished jobs are kept
for ``ttl`` seconds, at most ``max_results`` of them (the oldest go first).
A cancel withdraws one request; the run stops, at its next batch, once nobody else
waits for it.

Runs in threads share Keras' process-global random seed; see
:mod:`cnnviz.training.loop` for how the training jobs stay reproducible anyway.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections import OrderedDict, deque
from dataclasses import dataclass, field

from cnnviz.errors import CnnvizError
from cnnviz.jobs.estimates import Estimator
from cnnviz.jobs.interface import FORGOTTEN, JobStatus, State, UnknownJob
from cnnviz.jobs.kinds import KINDS, Kind, readable_error, resolve, settings_key

log = logging.getLogger(__name__)

WORKERS_ENV = "CNNVIZ_TRAINING_WORKERS"


def workers_from_env(default: int = 1) -> int:
    """The number of concurrent trainings ``CNNVIZ_TRAINING_WORKERS`` asks for."""
    value = os.environ.get(WORKERS_ENV, "").strip()
    try:
        return max(1, int(value)) if value else default
    except ValueError:
        log.warning("%s=%r is not a number; using %d", WORKERS_ENV, value, default)
        return default


@dataclass
class _Job:
    id: str
    kind: str
    key: str
    settings: object
    cost: tuple[str, float] | None
    expected: float | None
    state: State = State.QUEUED
    requests: int = 1
    waiting: int = 1  # requests not withdrawn: the run stops when this reaches 0
    progress: dict = field(default_factory=dict)
    result: object = None
    error: str = ""
    started: float | None = None
    ended: float | None = None
    stop: threading.Event = field(default_factory=threading.Event)


class EmbeddedPool:
    """Jobs run by ``workers`` threads of this process, first come, first served."""

    def __init__(self, workers: int | None = None, *, max_results: int = 64,
                 ttl: float = 6 * 3600, kinds: dict[str, Kind] | None = None,
                 estimator: Estimator | None = None, clock=time.monotonic):
        self.workers = workers if workers is not None else workers_from_env()
        self.max_results = max_results
        self.ttl = ttl
        self.kinds = dict(KINDS if kinds is None else kinds)
        self.estimator = estimator or Estimator()
        self._clock = clock
        self._lock = threading.Condition()
        self._jobs: dict[str, _Job] = {}
        self._by_key: dict[str, str] = {}  # settings key -> its queued, running or done job
        self._queue: deque[str] = deque()
        self._finished: OrderedDict[str, None] = OrderedDict()  # oldest first
        self._threads: list[threading.Thread] = []
        self._closed = False

    # ------------------------------------------------------------------ interface
    def submit(self, kind: str, settings) -> str:
        if kind not in self.kinds:
            raise CnnvizError(f"Unknown kind of job {kind!r}; known: {', '.join(self.kinds)}.")
        key = settings_key(kind, settings)
        cost = self._cost(kind, settings)
        with self._lock:
            self._expire()
            job = self._jobs.get(self._by_key.get(key, ""))
            if job is not None and not job.stop.is_set():  # a stopping run is not joined
                job.requests += 1
                if not job.state.finished:
                    job.waiting += 1
                return job.id
            job = _Job(uuid.uuid4().hex, kind, key, settings, cost,
                       self.estimator.expected(cost) if cost else None)
            self._jobs[job.id] = job
            self._by_key[key] = job.id
            self._queue.append(job.id)
            self._start_workers()
            self._lock.notify()
            return job.id

    def status(self, job_id: str) -> JobStatus:
        with self._lock:
            self._expire()
            return self._status(self._job(job_id))

    def cancel(self, job_id: str) -> JobStatus:
        with self._lock:
            job = self._job(job_id)
            if not job.state.finished:
                job.waiting = max(job.waiting - 1, 0)
                if job.waiting == 0:
                    if job.state is State.QUEUED:
                        self._queue.remove(job.id)
                        self._finish(job, State.CANCELLED)
                    else:
                        job.stop.set()  # the job ends at its next batch
            return self._status(job)

    def estimate(self, kind: str, settings) -> float | None:
        cost = self._cost(kind, settings)
        return self.estimator.expected(cost) if cost else None

    def close(self, timeout: float = 30.0) -> None:
        """Cancel every queued and running job and stop the workers (tests, shutdown)."""
        with self._lock:
            self._closed = True
            for job_id in list(self._queue):
                self._finish(self._jobs[job_id], State.CANCELLED)
            self._queue.clear()
            for job in self._jobs.values():
                job.stop.set()
            self._lock.notify_all()
        for thread in self._threads:
            thread.join(timeout)

    # ------------------------------------------------------------------ workers
    def _start_workers(self) -> None:
        self._threads = [t for t in self._threads if t.is_alive()]
        while len(self._threads) < self.workers:
            thread = threading.Thread(target=self._work, daemon=True,
                                      name=f"cnnviz-training-{len(self._threads) + 1}")
            self._threads.append(thread)
            thread.start()

    def _work(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._closed:
                    self._lock.wait()
                if self._closed:
                    return
                job = self._jobs[self._queue.popleft()]
                job.state, job.started = State.RUNNING, self._clock()
            self._run(job)

    def _run(self, job: _Job) -> None:
        def report(progress: dict) -> None:
            with self._lock:
                job.progress = progress

        try:
            function = resolve(self.kinds[job.kind].run)
            result = function(job.settings, report, job.stop.is_set)
        except Exception as error:  # noqa: BLE001 - a failed job must not kill its worker
            if not isinstance(error, CnnvizError):
                log.exception("Training job %s (%s) failed", job.id, job.kind)
            with self._lock:
                job.error = readable_error(error)
                self._finish(job, State.FAILED)
            return
        with self._lock:
            job.result = result
            if job.stop.is_set():
                self._finish(job, State.CANCELLED)
                return
            self._finish(job, State.DONE)
            if job.cost is not None:
                self.estimator.record(job.cost, job.ended - job.started)

    # ------------------------------------------------------------------ bookkeeping
    def _cost(self, kind: str, settings) -> tuple[str, float] | None:
        try:
            return resolve(self.kinds[kind].cost)(settings)
        except CnnvizError:
            return None  # the job itself will say what is wrong with the settings

    def _job(self, job_id: str) -> _Job:
        job = self._jobs.get(job_id)
        if job is None:
            raise UnknownJob(FORGOTTEN)
        return job

    def _finish(self, job: _Job, state: State) -> None:
        job.state, job.ended = state, self._clock()
        if state is not State.DONE and self._by_key.get(job.key) == job.id:
            del self._by_key[job.key]  # a failed or stopped run is retried on the next submit
        self._finished[job.id] = None
        self._expire()

    def _expire(self) -> None:
        now = self._clock()
        while self._finished:
            oldest = self._jobs[next(iter(self._finished))]
            if len(self._finished) <= self.max_results and now - oldest.ended <= self.ttl:
                break
            del self._finished[oldest.id]
            del self._jobs[oldest.id]
            if self._by_key.get(oldest.key) == oldest.id:
                del self._by_key[oldest.key]

    def _status(self, job: _Job) -> JobStatus:
        position = ahead = 0
        if job.state is State.QUEUED:
            position = self._queue.index(job.id) + 1
            running = sum(j.state is State.RUNNING for j in self._jobs.values())
            ahead = running + position - 1
        if job.started is None:
            elapsed = 0.0
        else:
            elapsed = (job.ended if job.ended is not None else self._clock()) - job.started
        return JobStatus(job.id, job.kind, job.state, job.settings, position, ahead,
                         job.progress, job.result, job.error, job.requests, elapsed,
                         job.expected, job.stop.is_set())
