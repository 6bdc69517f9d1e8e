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
- ``estimates``: expected seconds from the runs measured on this server.

Importing this package imports no TensorFlow, Keras or Streamlit.
"""

from __future__ import annotations

import threading

from cnnviz.jobs.embedded import EmbeddedPool
from cnnviz.jobs.interface import Backend, JobStatus, State, UnknownJob
from cnnviz.jobs.kinds import KINDS, Kind, settings_key

__all__ = [
    "KINDS", "Backend", "EmbeddedPool", "JobStatus", "Kind", "State", "UnknownJob",
    "backend", "cancel", "estimate", "set_backend", "settings_key", "status", "submit",
]

_backend: Backend | None = None
_backend_lock = threading.Lock()


def backend() -> Backend:
    """This process's backend: the in-process pool unless another was set."""
    global _backend
    with _backend_lock:
        if _backend is None:
            _backend = EmbeddedPool()
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
