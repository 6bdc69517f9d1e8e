"""Drive the real app: a `streamlit run` server and headless Debian Chromium.

Used by the browser tests, the load test and ``scripts/screenshot.py``.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CNNVIZ_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]
DONE = "[data-testid='stApp'][data-test-script-state='notRunning']"
EXCEPTION = "[data-testid='stException']"


def page_url_path(page: str) -> str:
    """The URL path Streamlit gives a page file: pages/2_Foo_Bar.py -> Foo_Bar."""
    if page in ("", "streamlit_app.py"):
        return ""
    return re.sub(r"^\d+_", "", Path(page).stem)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def app_server(port: int | None = None, env: dict | None = None,
               log_path: Path | None = None,
               script: str = "streamlit_app.py",
               cpus: str | None = None) -> Iterator[tuple[str, subprocess.Popen]]:
    """Start `streamlit run SCRIPT` (the app by default) on a free port; yield
    (base URL, process). ``cpus`` (e.g. "0") pins the server to those cores (taskset)."""
    port = port or free_port()
    log = open(log_path, "wb") if log_path else subprocess.DEVNULL
    pinned = ["taskset", "-c", cpus] if cpus else []
    process = subprocess.Popen(
        [*pinned, sys.executable, "-m", "streamlit", "run", script,
         "--server.headless", "true", "--server.fileWatcherType", "none",
         "--browser.gatherUsageStats", "false", "--server.port", str(port),
         "--server.address", "127.0.0.1"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        # no background warm-up unless a test asks for it: it would compete for the CPU
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CNNVIZ_WARM_UP": "0", **(env or {})},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("streamlit server did not start")
            time.sleep(0.3)
        yield base, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        if log_path:
            log.close()


@contextlib.contextmanager
def browser() -> Iterator[object]:
    """A headless Debian Chromium driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


def wait_until_done(page, timeout_ms: int = 120_000) -> None:
    """Wait until the page's script has run to the end (and stays finished briefly)."""
    page.wait_for_selector("[data-testid='stApp']", timeout=timeout_ms)
    for _ in range(3):  # a page may rerun itself once (e.g. after restoring state)
        page.wait_for_selector(DONE, timeout=timeout_ms)
        page.wait_for_timeout(400)
        if page.locator(DONE).count():
            return


def screenshot_whole_app(page, path: str, max_height: int = 12_000) -> None:
    """Screenshot the whole page: Streamlit scrolls inside its main block, not the
    document, so the viewport is stretched to the content's height first."""
    viewport = page.viewport_size
    height = page.evaluate(
        "() => { const m = document.querySelector(\"[data-testid='stMain']\");"
        " return m ? m.scrollHeight : document.body.scrollHeight; }")
    page.set_viewport_size({"width": viewport["width"],
                            "height": max(viewport["height"], min(int(height), max_height))})
    page.wait_for_timeout(500)
    page.screenshot(path=path)
    page.set_viewport_size(viewport)


def choose(page, label: str, option) -> None:
    """Pick ``option`` (text, or a compiled pattern) in the selectbox labelled ``label``,
    then wait for the rerun. A click that lands while the page is still drawing may not
    open the list, and a rerun can close the open list before the option is clicked, so
    both are tried again until the option is picked."""
    box = page.locator("[data-testid='stSelectbox']").filter(has_text=label).first
    if isinstance(option, str):
        option = re.compile("^" + re.escape(option) + r"\b")
    wanted = page.get_by_role("option").filter(has_text=option).first
    for _ in range(5):
        box.click()
        try:
            wanted.wait_for(timeout=10_000)
            wanted.click(timeout=5_000)
            break
        except Exception:  # noqa: BLE001 - playwright's TimeoutError: open it again
            page.keyboard.press("Escape")
            wait_until_done(page)
    else:
        raise AssertionError(f"could not pick {option.pattern!r} in {label!r}")
    page.wait_for_timeout(400)  # let the rerun the choice asked for start
    wait_until_done(page)


def slide_to(page, label: str, value: float) -> None:
    """Move the slider labelled ``label`` to ``value`` with the arrow keys, as a keyboard
    user does, then wait for the rerun. The thumb is focused again before every key: a
    rerun that lands meanwhile can take the focus away and lose the key."""
    thumb = page.locator("[data-testid='stSlider']").filter(has_text=label) \
        .get_by_role("slider").first
    for _ in range(200):
        now = float(thumb.input_value())
        if now == value:
            break
        thumb.focus()
        page.keyboard.press("ArrowRight" if now < value else "ArrowLeft")
    else:
        raise AssertionError(f"the slider {label!r} did not reach {value}")
    page.wait_for_timeout(1000)  # the slider sends its value after a debounce: let the rerun start
    wait_until_done(page)


def require_chromium() -> None:
    """Skip the calling test module when Chromium is missing; under CI
    (``CNNVIZ_REQUIRE_BROWSER``) fail instead: there the browser tests must run."""
    import pytest

    if not Path(CHROMIUM).exists():
        if os.environ.get("CNNVIZ_REQUIRE_BROWSER"):
            raise RuntimeError(f"{CHROMIUM} is missing: the browser tests must run here")
        pytest.skip(f"{CHROMIUM} is not installed", allow_module_level=True)
