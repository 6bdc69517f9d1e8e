"""Before a download: where Keras caches it, and whether the internet is reachable now.

ImageNet weights and the downloadable datasets both go through Keras's cache
(``keras_home()``) and both ask ``reachable`` first, so an offline machine fails
within seconds instead of hanging in a download. A probe's answer is remembered
per host for ``TTL`` seconds and shared by every caller: the home page cannot
say models are downloadable and datasets offline at the same moment.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

#: The host ImageNet weights and most datasets download from.
DEFAULT_HOST = "storage.googleapis.com"
#: Seconds one probe may take in total (DNS included) before the host counts as offline.
TIMEOUT = 2.0
#: Seconds a probe's answer is remembered, for every caller.
TTL = 120.0

_cache: dict[str, tuple[float, bool]] = {}  # host -> (monotonic time, reachable)
_lock = threading.Lock()


def keras_home() -> Path:
    """Keras's cache root: ``$KERAS_HOME`` or ``~/.keras``.

    Read at call time (Keras itself reads it once, at import), with Keras's
    fallback to ``/tmp/.keras`` when the home directory is read-only.
    """
    env = os.environ.get("KERAS_HOME")
    if env:
        return Path(env).expanduser()
    home = Path(os.path.expanduser("~")) / ".keras"
    base = home if home.exists() else home.parent
    return home if os.access(base, os.W_OK) else Path("/tmp/.keras")


def _connect(host: str, port: int, timeout: float) -> None:
    socket.create_connection((host, port), timeout=timeout).close()


def reachable(hosts, *, timeout: float | None = None) -> dict[str, bool]:
    """Which ``hosts`` accept a TCP connection on port 443, all probed at once.

    Each probe runs in a daemon thread, so a DNS lookup that hangs (socket
    timeouts do not cover it) cannot hold the caller longer than ``timeout``
    seconds (default ``TIMEOUT``). Answers younger than ``TTL`` are reused.
    """
    timeout = TIMEOUT if timeout is None else float(timeout)
    hosts = list(dict.fromkeys(hosts))
    now = time.monotonic()
    with _lock:
        results = {host: _cache[host][1] for host in hosts
                   if host in _cache and now - _cache[host][0] < TTL}
    answers: dict[str, bool] = {}

    def probe(host):
        try:
            _connect(host, 443, timeout)
            answers[host] = True
        except Exception:  # refused, unknown host, timeout, no route...
            answers[host] = False

    threads = {host: threading.Thread(target=probe, args=(host,), daemon=True)
               for host in hosts if host not in results}
    for thread in threads.values():
        thread.start()
    deadline = time.monotonic() + timeout
    for host, thread in threads.items():
        thread.join(max(0.0, deadline - time.monotonic()))
        results[host] = answers.get(host, False)
        with _lock:
            _cache[host] = (time.monotonic(), results[host])
    return results


def is_online(host: str = DEFAULT_HOST, *, timeout: float | None = None) -> bool:
    """Can we reach ``host`` now? (One remembered probe; see ``reachable``.)"""
    return reachable([host], timeout=timeout)[host]
