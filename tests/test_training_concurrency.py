"""Three students press "Train" at once, two with identical settings: those two share
one run (and one is told so), the other settings wait in the queue with a visible
position, all three get results, and a fourth student's probing page stays responsive."""

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


def test_identical_trainings_share_a_run_others_queue_and_probing_stays_responsive():
    with app_server() as (base, _):
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
    assert max(report.probe_seconds) < 30
