"""A warm server: every page's default view computed once per process, in the background.

What is the same for every student — the built-in models, their sub-models and traced
probes, the default views' results — sits in the process-wide caches
(``st.cache_resource``, ``st.cache_data``, :mod:`cnnviz.cache`). Warming them means
running each page once with its default view, exactly as a student's first visit does:
the warm-up opens a headless session of this server (the same kind Streamlit's own
script health check uses) and runs the pages one after another in it. A student who
arrives while a page warms waits for that one computation (Streamlit computes a cached
value once per key while others wait), not for a second one.

The warm-up starts with the first script run of the process — a student's first page,
or the ``/_stcore/script-health-check`` request ``scripts/run.sh`` and the deployment
send right after start — and logs one line per page and one when it is done; the home
page shows its state (:func:`status`).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass, field

import streamlit as st

log = logging.getLogger("cnnviz.warm")

#: The pages warmed, in order: the probing pages a class opens first; the training
#: pages start nothing heavy until a button is pressed. ``CNNVIZ_WARM_UP`` may name
#: fewer (``cnnviz.config.warm_up_pages``).
PAGES = ("Convolution", "Grad-CAM", "Activations", "Filters", "Pooling_and_Receptive_Fields",
         "Architecture")
#: A page that takes longer is left to finish on its own; the warm-up goes on.
PAGE_TIMEOUT_S = 300.0


@dataclass
class WarmupStatus:
    """What the warm-up has done so far (read by the home page; written by one thread)."""

    planned: tuple[str, ...] = ()
    started: float | None = None
    finished: float | None = None
    pages: dict[str, float] = field(default_factory=dict)  # page -> seconds
    failed: dict[str, str] = field(default_factory=dict)  # page -> why

    @property
    def seconds(self) -> float | None:
        if self.started is None:
            return None
        return (self.finished or time.monotonic()) - self.started

    def sentence(self) -> str:
        if self.started is None:
            from cnnviz.config import WARM_UP_ENV, warm_up_pages

            if not warm_up_pages(PAGES):
                return f"No warm-up: this server was started with {WARM_UP_ENV}=0."
            return "The warm-up has not started."
        done = len(self.pages) + len(self.failed)
        if self.finished is None:
            return (f"Warming up: {done} of {len(self.planned)} pages computed "
                    f"({self.seconds:.0f} s so far).")
        text = (f"Warm: the default views of {len(self.pages)} pages were computed in "
                f"{self.seconds:.0f} s after the first visit.")
        if self.failed:
            text += " Not warmed: " + ", ".join(f"{p} ({why})" for p, why in self.failed.items())
        return text


STATUS = WarmupStatus()


def status() -> WarmupStatus:
    return STATUS


@st.cache_resource(show_spinner=False)
def start() -> bool:
    """Start the warm-up once per process (a no-op afterwards); False when there is no
    server to warm (a script run outside ``streamlit run``, e.g. AppTest)."""
    from streamlit import runtime

    from cnnviz.config import warm_up_pages

    pages = warm_up_pages(PAGES)
    if not pages or not runtime.exists():
        return False
    instance = runtime.get_instance()
    try:
        loop = instance._get_async_objs().eventloop
    except Exception:  # noqa: BLE001 - not a running server (AppTest's mock runtime)
        return False
    if not isinstance(loop, asyncio.AbstractEventLoop):
        return False
    if not log.handlers:  # the server log: one line per page, one when done
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
    threading.Thread(target=_warm_all, args=(instance, loop, pages), name="cnnviz-warm-up",
                     daemon=True).start()
    return True


def _warm_all(instance, loop: asyncio.AbstractEventLoop, pages: tuple[str, ...]) -> None:
    STATUS.planned, STATUS.started = pages, time.monotonic()
    log.info("cnnviz warm-up: started (%s)", ", ".join(pages))
    for page in pages:
        began = time.monotonic()
        try:
            future = asyncio.run_coroutine_threadsafe(_visit(instance, page), loop)
            outcome = future.result(timeout=PAGE_TIMEOUT_S + 5)
        except Exception as error:  # noqa: BLE001 - a page that fails to warm stays cold
            outcome = type(error).__name__
        if outcome == "ok":
            STATUS.pages[page] = time.monotonic() - began
            log.info("cnnviz warm-up: %s in %.1f s", page, STATUS.pages[page])
        else:
            STATUS.failed[page] = outcome
            log.warning("cnnviz warm-up: %s not warmed (%s)", page, outcome)
    STATUS.finished = time.monotonic()
    log.info("cnnviz warm-up finished in %.1f s: %d pages warm, %d not",
             STATUS.seconds, len(STATUS.pages), len(STATUS.failed))


async def _visit(instance, page: str) -> str:
    """Run ``page`` once with its default view in a headless session: "ok", or why not.
    Runs on the server's event loop, as Streamlit's script health check does."""
    from streamlit.proto.ClientState_pb2 import ClientState
    from streamlit.runtime.app_session import AppSession
    from streamlit.runtime.script_data import ScriptData

    session = AppSession(
        script_data=ScriptData(instance._main_script_path, instance._is_hello),
        uploaded_file_manager=instance._uploaded_file_mgr,
        script_cache=instance._script_cache,
        message_enqueued_callback=None,
        user_info={},
    )
    try:
        session.request_rerun(ClientState(page_name=page))
        began = time.monotonic()
        while time.monotonic() - began < PAGE_TIMEOUT_S:
            await asyncio.sleep(0.2)
            session.flush_browser_queue()  # nobody reads this session's messages
            if session._scriptrunner is None:  # the run (and any rerun it asked for) ended
                return "ok"
        return "timeout"
    finally:
        session.shutdown()


def poke(base_url: str, *, wait_s: float = 120.0) -> bool:
    """Wait for the server at ``base_url`` to answer, then run its home page once through
    the script health check, which starts the warm-up; False if it never answered."""
    import urllib.request

    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=5).close()
        except OSError:
            time.sleep(1)
            continue
        try:
            urllib.request.urlopen(f"{base_url}/_stcore/script-health-check", timeout=120).close()
        except OSError:
            return False
        return True
    return False


if __name__ == "__main__":  # python -m cnnviz.ui.warm http://127.0.0.1:8501
    import sys

    sys.exit(0 if poke(sys.argv[1]) else 1)
