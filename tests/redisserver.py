"""A throw-away ``redis-server`` on a free port of 127.0.0.1, for tests of stores that
use Redis. Nothing is saved to disk; the server stops when the block ends."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator

from appdriver import free_port

REDIS_SERVER = os.environ.get("CNNVIZ_REDIS_SERVER", shutil.which("redis-server")
                              or "/usr/bin/redis-server")


def missing() -> str | None:
    """Why Redis tests cannot run here, or None if they can."""
    if not os.path.exists(REDIS_SERVER):
        return f"{REDIS_SERVER} is not installed (scripts/test.sh installs it)"
    try:
        import redis  # noqa: F401
        import rq  # noqa: F401
    except ImportError:
        return "redis or rq (Python) is not installed (pip install -r requirements.txt)"
    return None


def require() -> None:
    """Skip the calling test, with the reason, where Redis cannot run here; in CI
    (``CNNVIZ_REQUIRE_BROWSER=1``) a missing server is a failure instead."""
    import pytest

    reason = missing()
    if reason:
        if os.environ.get("CNNVIZ_REQUIRE_BROWSER"):
            pytest.fail(f"Redis tests must run here: {reason}")
        pytest.skip(reason)


@contextlib.contextmanager
def redis_server(port: int | None = None) -> Iterator[str]:
    """Start redis-server (on ``port``, default a free one); yield its URL
    (redis://127.0.0.1:PORT/0). Started again on the same port, it is the same URL."""
    import redis

    port = port or free_port()
    process = subprocess.Popen(
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--protected-mode", "yes"],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url)
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.1)
        client.close()
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
