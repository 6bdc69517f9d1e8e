"""What every job backend promises: the states of a job, the status a page polls, and
the three calls (submit, status, cancel).

Everything here is plain data, so that a backend in another process (a queue on
Redis) can hand the same :class:`JobStatus` to the page as the in-process pool.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Protocol

from cnnviz.errors import CnnvizError


class State(enum.StrEnum):
    """Where a job is in its life: queued → running → done, failed or cancelled."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (State.DONE, State.FAILED, State.CANCELLED)


@dataclass(frozen=True)
class JobStatus:
    """One look at a job, as a page shows it.

    ``progress`` is the job's own report (for training, a
    :class:`cnnviz.training.loop.Progress` snapshot: the history of every run so far,
    the current run, phase and epoch, the phase boundaries, a one-line message).
    ``result`` is the job function's return value once it ended: complete when
    ``done``, the part that finished when ``cancelled`` (None if nothing did).
    ``error`` is a sentence for a student when ``failed``.
    """

    id: str
    kind: str
    state: State
    settings: object = None
    #: queued: the place in the queue, 1 = starts next; 0 otherwise
    position: int = 0
    #: queued: runs that go before this one (those running, then those queued earlier)
    ahead: int = 0
    progress: dict = field(default_factory=dict)
    result: object = None
    error: str = ""
    #: how many requests this one run answers (identical settings share a run)
    requests: int = 1
    #: seconds since it started running (so far, or in all once finished)
    elapsed: float = 0.0
    #: seconds the whole run is expected to take on this server, if known
    expected: float | None = None
    #: a cancel was accepted: the run ends at its next batch
    stopping: bool = False
    #: a sentence about the backend the page shows beside the state, e.g. that no
    #: training worker is running, so the queue does not move ("" when all is well)
    notice: str = ""

    @property
    def finished(self) -> bool:
        return self.state.finished

    @property
    def remaining(self) -> float | None:
        """Seconds still to go: from the pace so far once a fifth is done, before that
        from the expectation; None when neither says anything sensible."""
        if self.finished:
            return 0.0
        fraction = float(self.progress.get("fraction", 0.0) or 0.0)
        if self.state is State.RUNNING and fraction >= 0.2:
            return self.elapsed * (1 - fraction) / fraction
        if self.expected is None or self.elapsed >= self.expected:
            return None
        return self.expected - self.elapsed


class UnknownJob(CnnvizError):
    """A job id this server does not know (never submitted here, or expired)."""


#: What :class:`UnknownJob` tells a student.
FORGOTTEN = ("This training is no longer known to the server (it finished long ago or the "
             "server restarted): run it again.")


class QueueUnavailable(CnnvizError):
    """The shared job queue cannot be reached: no training can start or be followed now,
    everything else on the page still works."""


class Backend(Protocol):
    """Runs jobs: the in-process pool (:mod:`cnnviz.jobs.embedded`) or a real queue
    (:mod:`cnnviz.jobs.redisqueue`), whose every call raises :class:`QueueUnavailable`
    while its Redis cannot be reached."""

    def submit(self, kind: str, settings) -> str:
        """Queue a run of ``kind`` with ``settings``, or join the identical one; its id."""

    def status(self, job_id: str) -> JobStatus:
        """Where the job is now; raises :class:`UnknownJob` for an unknown or expired id."""

    def cancel(self, job_id: str) -> JobStatus:
        """Withdraw one request for the job; the run stops once nobody else waits for it."""

    def estimate(self, kind: str, settings) -> float | None:
        """Seconds a run of ``kind`` with ``settings`` is expected to take here."""
