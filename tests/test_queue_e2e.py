"""The deployment past one machine, on localhost, with every real part: one
``redis-server``, two app servers (``streamlit run`` on two ports, both with
``CNNVIZ_REDIS_URL``), two training workers (``python -m cnnviz.jobs.worker``) and
students in headless Chromium on both servers, training the Augmentation experiment
with its smallest settings.

One test walks the story, because every step needs the servers and workers warm:
identical settings asked on both servers train once and reach both students; a Stop
ends its run; a worker killed mid-run gives its student "failed, retry" within the
heartbeat's bound and the page keeps answering; Redis going away gives a sentence on
the page, not an exception. The library-level cases (positions, no worker, the retry
running) are ``test_redisqueue.py``.
"""

from __future__ import annotations

import signal
import time

import pytest
from appdriver import (
    EXCEPTION,
    app_server,
    browser,
    page_url_path,
    require_chromium,
    wait_until_done,
)
from queueworkers import workers
from redisserver import redis_server, require

from cnnviz.jobs.redisqueue import QUEUE_NAME, UNAVAILABLE, key

require_chromium()

pytestmark = [pytest.mark.slow, pytest.mark.browser]

PAGE = "pages/4_Augmentation.py"
FINISHED = "will augmentation raise validation accuracy"  # asked once the result is in
STOP = "Stop training"
#: a killed worker's run reads as lost this long after its last heartbeat (shorter
#: than the default, yet long enough that a worker busy training on a loaded machine
#: is not taken for dead)
HEARTBEAT_TTL = 8.0


def open_pages(chromium, students: list[tuple[str, int]]) -> list:
    """New students on the Augmentation page of each (server, seed), smallest settings."""
    pages = []
    for base, seed in students:
        page = chromium.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page.goto(f"{base}/{page_url_path(PAGE)}?seeds=1")  # one seed per arm
        wait_until_done(page, timeout_ms=300_000)
        for label in ("Training images per class", "Epochs"):
            slider = page.locator("[data-testid='stSlider']").filter(has_text=label) \
                .get_by_role("slider")
            slider.first.focus()
            slider.first.press("Home")
        seed_box = page.locator("[data-testid='stForm']").get_by_label("First seed")
        seed_box.fill(str(seed))
        seed_box.press("Tab")
        pages.append(page)
    return pages


def train(page) -> None:
    page.get_by_role("button", name="Train both").click()


def wait_for_text(page, text: str, timeout: float = 180.0) -> None:
    """Wait until ``text`` shows; fail at once on an exception on the page."""
    deadline = time.monotonic() + timeout
    while not page.get_by_text(text).count():
        assert not page.locator(EXCEPTION).count(), f"exception while waiting for {text!r}"
        assert time.monotonic() < deadline, f"{text!r} never showed"
        page.wait_for_timeout(250)


def runs(client) -> dict[str, dict[str, str]]:
    """Every run the queue ever started, by run id: its hash, as text."""
    found = {}
    for name in client.scan_iter(key("run", "*")):
        found[name.decode().rsplit(":", 1)[1]] = {
            k.decode(): v.decode() for k, v in client.hgetall(name).items()}
    return found


def test_two_app_servers_and_two_workers_share_one_queue(tmp_path):
    require()
    import redis

    with redis_server() as url, \
            workers(url, ["worker-1", "worker-2"], heartbeat_ttl=HEARTBEAT_TTL,
                    log_path=tmp_path / "workers.log") as processes, \
            app_server(env={"CNNVIZ_REDIS_URL": url},
                       log_path=tmp_path / "app-1.log") as (first, _), \
            app_server(env={"CNNVIZ_REDIS_URL": url},
                       log_path=tmp_path / "app-2.log") as (second, _), \
            browser() as chromium:
        client = redis.Redis.from_url(url)
        alice, bob, carol, dave, erin = open_pages(
            chromium, [(first, 0), (second, 0), (first, 2), (second, 3), (first, 4)])

        # identical settings on two servers: one run, both students get it
        for page in (alice, bob, carol):
            train(page)
        # a Stop ends the run with different settings
        wait_for_text(carol, STOP)
        carol.get_by_role("button", name=STOP).click()
        for page in (alice, bob):
            wait_for_text(page, FINISHED)
        deadline = time.monotonic() + 30
        while carol.get_by_role("button", name=STOP).count():
            assert time.monotonic() < deadline, "the stopped run still shows Stop"
            carol.wait_for_timeout(250)
        started = runs(client)
        assert len(started) == 2, started  # seed 0 once for both servers, seed 2 once
        shared = next(run for run in started.values() if run["requests"] == "2")
        assert shared.get("stopped") == "0" and "error" not in shared
        stopped = next(run for run in started.values() if run is not shared)
        assert stopped["stop"] == "1" and stopped["stopped"] == "1"

        # a worker killed mid-run: "failed, retry" within the heartbeat's bound
        train(dave)
        wait_for_text(dave, STOP)
        deadline = time.monotonic() + 10
        while not (busy := client.hgetall(key("busy", QUEUE_NAME))):
            assert time.monotonic() < deadline, "no worker says it runs the run"
            time.sleep(0.1)
        busy = {w.decode(): r.decode() for w, r in busy.items()}
        assert len(busy) == 1, busy
        (worker, run_id), = busy.items()
        processes[worker].send_signal(signal.SIGKILL)
        processes[worker].wait()
        # within the heartbeat's bound (plus the page's poll and a loaded machine)
        wait_for_text(dave, "Press the button again to retry", timeout=HEARTBEAT_TTL + 60)
        assert runs(client)[run_id]["outcome"] == "lost"
        assert not dave.locator(EXCEPTION).count()

        # Redis away: the page says so, and the rest of it still works
        client.shutdown(nosave=True)
        train(erin)
        wait_for_text(erin, UNAVAILABLE[:60], timeout=60)
        assert erin.get_by_text("and 11 random versions").count()  # the page still draws
        assert not erin.locator(EXCEPTION).count()
