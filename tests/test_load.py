"""Short load test (CI): 8 concurrent browser sessions through every page.

The long version with more rounds and a written report is
``benchmarks/bench_load.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from appdriver import CHROMIUM, app_server
from loadtest import run_load

from cnnviz.ui.navigation import PAGES

if not Path(CHROMIUM).exists():
    if os.environ.get("CNNVIZ_REQUIRE_BROWSER"):
        raise RuntimeError(f"{CHROMIUM} is missing: the browser tests must run here")
    pytest.skip(f"{CHROMIUM} is not installed", allow_module_level=True)

pytestmark = pytest.mark.browser
SESSIONS = 8


def test_eight_students_at_once_see_no_errors_and_only_their_own_image():
    with app_server() as (base, server):
        report = run_load(base, server.pid, sessions=SESSIONS, rounds=1, max_seconds=900)
    for row in report.rows():
        print(row)
    print(f"peak RSS {report.peak_rss_mb:.0f} MB, wall {report.wall_seconds:.0f} s")
    print("\n".join(report.errors + report.isolation_failures))
    assert report.errors == []
    assert report.isolation_failures == []
    assert report.visits == SESSIONS * (len(PAGES) - 1)
    assert report.peak_rss_mb < 2700  # Community Cloud's largest memory limit
