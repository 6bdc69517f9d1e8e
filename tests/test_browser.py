"""The real app in a real browser (headless Chromium), one server for the whole module.

- Four students at once, each with their own image, walk two pages by the sidebar
  links: no errors, and no session sees another's image. (How much load the
  server takes — every page, more rounds, timings — is ``benchmarks/bench_load.py``.)
- The warm-up (on here, as in a deployment, for the load test's pages) computes each
  page's default view once in the background, logs each page and the end, and the home
  page says so.
- Two students press "Train" at once: one trains, the other waits with a visible
  message, both get results, and a third student's probing page stays responsive.

The load test runs first, on a server whose caches are still cold.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from appdriver import (
    app_server,
    browser,
    page_url_path,
    require_chromium,
    wait_until_done,
)
from loadtest import run_load
from trainingload import run_training_load

ROOT = Path(__file__).resolve().parents[1]
SHOTS = Path(os.environ.get("CNNVIZ_SHOTS", ROOT / "shots"))

require_chromium()

pytestmark = pytest.mark.browser

SESSIONS = 4
ROUNDS = 1
#: pages with the image picker, one of them with a model (Grad-CAM); every page under
#: load is benchmarks/bench_load.py's and bench_capacity.py's
LOAD_PAGES = ("pages/1_Convolution.py", "pages/8_Grad-CAM.py")
WARM_PAGES = tuple(page_url_path(p) for p in LOAD_PAGES)


@pytest.fixture(scope="module")
def server():
    """(base URL, process) of one `streamlit run` server for every test here."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    # warmed as a deployment is, the warm-up starting with the load test's first visit;
    # only the pages the load test visits, to spend no CPU on the others
    with app_server(log_path=SHOTS / "server.log",
                    env={"CNNVIZ_WARM_UP": ",".join(WARM_PAGES)}) as running:
        yield running


def test_four_students_at_once_see_no_errors_and_only_their_own_image(server):
    base, process = server
    report = run_load(base, process.pid, sessions=SESSIONS, rounds=ROUNDS, pages=LOAD_PAGES,
                      max_seconds=900)
    for row in report.rows():
        print(row)
    print(f"peak RSS {report.peak_rss_mb:.0f} MB, wall {report.wall_seconds:.0f} s")
    print("\n".join(report.errors + report.isolation_failures))
    assert report.errors == []
    assert report.isolation_failures == []
    assert report.visits == SESSIONS * ROUNDS * len(LOAD_PAGES)
    assert report.peak_rss_mb < 2700  # Community Cloud's largest memory limit


def test_the_warm_up_computes_every_page_once_and_says_so(server):
    """The warm-up (cnnviz/ui/warm.py), started by the first visit, runs each page's
    default view once in the background: the server log has a line per page and one
    for the end, and the home page reports it."""
    base, _ = server
    log = SHOTS / "server.log"
    deadline = time.monotonic() + 420
    while "cnnviz warm-up finished" not in log.read_text(errors="replace"):
        assert time.monotonic() < deadline, "the warm-up did not finish"
        time.sleep(2)
    text = log.read_text(errors="replace")
    for name in WARM_PAGES:
        assert re.search(rf"cnnviz warm-up: {re.escape(name)} in [0-9.]+ s", text), name
    assert f"{len(WARM_PAGES)} pages warm, 0 not" in text
    with browser() as chromium:  # closed before the next test runs its own event loop
        page = chromium.new_page(viewport={"width": 1280, "height": 720})
        page.goto(base)
        wait_until_done(page)
        page.get_by_text("Models and data on this server").click()
        assert page.get_by_text(re.compile(
            rf"Warm: the default views of {len(WARM_PAGES)} pages were computed in \d+ s"
        )).count() == 1


def test_identical_trainings_share_a_run_others_queue_and_probing_stays_responsive(server):
    """Three students press "Train" at once, two with identical settings: those two share
    one run (one is told so), the other settings wait in the queue with a visible
    position, all three get results, and a fourth student's probing page answers while
    the runs train (how fast it answers is measured in benchmarks/, not asserted)."""
    base, _ = server
    report = run_training_load(base, minimum_settings=True)
    print(report.summary())
    assert report.errors == []
    assert report.finished == [True, True, True]
    # the two students who asked for seed 0 share one run: the second is told so
    assert sum(j for s, j in zip(report.seeds, report.joined) if s == 0) == 1
    assert not any(j for s, j in zip(report.seeds, report.joined) if s == 1)
    assert sum(report.waited) >= 1  # the run that came later waited with its position
    assert any(report.live)  # a run was seen in progress, with its Stop button
    assert report.probe_seconds  # the probing page was used while training ran
