"""Training workers (``python -m cnnviz.jobs.worker``) as separate processes, for the
tests and benchmarks of the shared queue."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from cnnviz.jobs.redisqueue import QUEUE_NAME, key, redis_now

ROOT = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent


def start_worker(url: str, name: str, *, preload: tuple[str, ...] = (), queue: str = "",
                 heartbeat_ttl: float | None = None, env: dict | None = None,
                 log_path: Path | None = None) -> subprocess.Popen:
    """Start a worker named ``name`` on the Redis at ``url``; ``preload`` replaces its
    default imports (e.g. ``("fakejobs",)`` for the fast fake kind)."""
    command = [sys.executable, "-m", "cnnviz.jobs.worker", "--url", url, "--name", name]
    if queue:
        command += ["--queue", queue]
    for module in preload:
        command += ["--preload", module]
    if heartbeat_ttl is not None:
        command += ["--heartbeat-ttl", str(heartbeat_ttl)]
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL
    try:
        return subprocess.Popen(
            command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CNNVIZ_REDIS_URL": url,
                 "PYTHONPATH": os.pathsep.join([str(TESTS), str(ROOT)]), **(env or {})})
    finally:
        if log_path:
            log.close()


def wait_until_alive(client, names, queue: str = QUEUE_NAME, timeout: float = 120.0) -> None:
    """Wait until every worker in ``names`` has said it is alive (its imports done)."""
    deadline = time.monotonic() + timeout
    while True:
        alive = {n.decode() for n in client.zrangebyscore(key("workers", queue),
                                                          redis_now(client), "+inf")}
        if set(names) <= alive:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"workers {sorted(set(names) - alive)} did not start")
        time.sleep(0.2)


def stop(process: subprocess.Popen, timeout: float = 15.0) -> None:
    """End a worker the way a container stop does: SIGTERM, then SIGKILL."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def workers(url: str, names, **options) -> Iterator[dict[str, subprocess.Popen]]:
    """Workers ``names`` running for the block (stopped after it), alive when it starts."""
    import redis

    processes = {name: start_worker(url, name, **options) for name in names}
    try:
        client = redis.Redis.from_url(url)
        wait_until_alive(client, names)
        client.close()
        yield processes
    finally:
        for process in processes.values():
            stop(process)
