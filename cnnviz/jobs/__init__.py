"""Training as jobs: submit, watch, cancel, behind one small interface.

    job_id = jobs.submit("augmentation", AugmentSettings(epochs=20))
    jobs.status(job_id)   # JobStatus: state, queue position, progress, result, error
    jobs.cancel(job_id)   # withdraw the request; the run stops at its next batch

A page never trains in its own script thread: a job runs elsewhere and the page
polls its status, so touching a widget does not stop a training, and a class that
presses Train together waits in one visible queue. Identical settings are one job:
the whole class trains them once.

Where to look:

- ``interface``: ``State``, ``JobStatus``, ``UnknownJob``, the ``Backend`` protocol;
- ``kinds``: the kinds of job (``KINDS``: "augmentation", "transfer",
  "pooled_vs_plain", "residual"), each a library function named by its import path,
  and ``settings_key``, the digest that makes identical settings one job;
- ``embedded``: ``EmbeddedPool``, worker threads in this process (the default;
  ``CNNVIZ_TRAINING_WORKERS`` sets how many run at once);
- ``redisqueue``: ``RedisQueue``, the shared backend when a Redis URL is configured
  (:func:`cnnviz.config.redis_url`): an RQ queue in Redis, results shared by every
  app server, trainings run by ``python -m cnnviz.jobs.worker`` processes
  (``worker``) on this or other machines;
- ``estimates``: expected seconds from the runs measured on this server.

Importing this package imports no TensorFlow, Keras or Streamlit.
"""

from __future__ import annotations

import threading

from cnnviz import config
from cnnviz.jobs.embedded import EmbeddedPool
from cnnviz.jobs.interface import Backend, JobStatus, QueueUnavailable, State, UnknownJob
from cnnviz.jobs.kinds import KINDS, Kind, settings_key

__all__ = [
    "KINDS", "Backend", "EmbeddedPool", "JobStatus", "Kind", "QueueUnavailable", "State",
    "UnknownJob", "backend", "cancel", "estimate", "open_backend", "set_backend",
    "settings_key", "status", "submit",
]

_backend: Backend | None = None
_backend_lock = threading.Lock()


def open_backend(redis_url: str | None) -> Backend:
    """The backend a deployment asks for: the shared queue in the Redis at ``redis_url``,
    or the in-process pool when there is none. Connects lazily: a Redis that is away
    shows up as :class:`QueueUnavailable` on the first call, not here."""
    if redis_url:
        from cnnviz.jobs.redisqueue import RedisQueue

        return RedisQueue(redis_url)
    return EmbeddedPool()


def backend(redis_url: str | None = None) -> Backend:
    """This process's backend, chosen on first use: the one ``set_backend`` installed,
    else :func:`open_backend` for ``redis_url`` or, without one, for the Redis URL of
    the environment (:func:`cnnviz.config.redis_url`). Later calls return the same."""
    global _backend
    with _backend_lock:
        if _backend is None:
            _backend = open_backend(redis_url or config.redis_url())
        return _backend


def set_backend(new: Backend | None) -> Backend | None:
    """Use ``new`` from now on (None: a fresh in-process pool on next use); returns the
    previous backend, so a test can put it back."""
    global _backend
    with _backend_lock:
        previous, _backend = _backend, new
    return previous


def submit(kind: str, settings) -> str:
    """Queue a run of ``kind`` (a key of ``KINDS``) with ``settings``, or join the run
    with identical settings (queued, running or finished); returns its job id."""
    return backend().submit(kind, settings)


def status(job_id: str) -> JobStatus:
    """Where the job is now (raises ``UnknownJob`` once it expired)."""
    return backend().status(job_id)


def cancel(job_id: str) -> JobStatus:
    """Withdraw this request for the job; the run stops once nobody else waits for it."""
    return backend().cancel(job_id)


def estimate(kind: str, settings) -> float | None:
    """Seconds a run of ``kind`` with ``settings`` should take on this server, if known."""
    return backend().estimate(kind, settings)
