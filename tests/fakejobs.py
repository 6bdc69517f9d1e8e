"""A fast kind of job for the queue tests (no Keras), importable by a worker process
(``--preload fakejobs`` with ``tests/`` on its path). Every run it starts is counted
in Redis (``STARTED``), so a test sees how many runs the workers really made."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from cnnviz.errors import DatasetError
from cnnviz.jobs import Kind

STARTED = "test:fake:started"


@dataclass(frozen=True)
class Slow:
    value: int = 0
    steps: int = 3
    seconds: float = 0.05  # per step
    fail: str = ""  # "cnnviz" or "bug": fail after the steps


def run(settings: Slow, report, should_stop):
    import redis

    redis.Redis.from_url(os.environ["CNNVIZ_REDIS_URL"]).rpush(STARTED, settings.value)
    done = []
    for step in range(settings.steps):
        if should_stop():
            return {"value": settings.value, "steps": done, "stopped": True}
        time.sleep(settings.seconds)
        done.append(step)
        report({"fraction": len(done) / settings.steps, "steps": list(done)})
    if settings.fail == "cnnviz":
        raise DatasetError("Class 'a' has 2 images; this experiment needs at least 4.")
    if settings.fail == "bug":
        raise ValueError("an internal detail no student should read")
    return {"value": settings.value, "steps": done, "pid": os.getpid()}


def cost(settings: Slow):
    return "fake", float(settings.steps)


KINDS = {"fake": Kind("fakejobs:run", "fakejobs:cost")}


def started(client) -> list[int]:
    """The values of every run the workers started, in order."""
    return [int(v) for v in client.lrange(STARTED, 0, -1)]
