"""Two students press "Train" at once: one trains, the other waits with a visible
message, both get results, and a third student's probing page stays responsive."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from appdriver import CHROMIUM, app_server
from trainingload import run_training_load

if not Path(CHROMIUM).exists():
    if os.environ.get("CNNVIZ_REQUIRE_BROWSER"):
        raise RuntimeError(f"{CHROMIUM} is missing: the browser tests must run here")
    pytest.skip(f"{CHROMIUM} is not installed", allow_module_level=True)

pytestmark = pytest.mark.browser


def test_two_trainings_queue_and_probing_stays_responsive():
    with app_server() as (base, _):
        report = run_training_load(base, minimum_settings=True)
    print(report.summary())
    assert report.errors == []
    assert report.finished == [True, True]
    assert sum(report.waited) >= 1  # the later one was told it waits
    assert report.probe_seconds  # the probing page was used while training ran
    assert max(report.probe_seconds) < 30
