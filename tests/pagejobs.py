"""Page tests with training jobs: rerun an AppTest until this session's runs ended."""

from __future__ import annotations

import json
import time


def job_slot(at, slot: str) -> dict:
    """This session's runs in ``slot`` (``cnnviz.ui.jobs``): pending and finished."""
    return at.session_state[f"_cnnviz_jobs_{slot}"]


def finish_jobs(at, slot: str, timeout: float = 600.0):
    """Rerun the page until no run of ``slot`` is in flight; the newest finished status."""
    deadline = time.monotonic() + timeout
    while job_slot(at, slot)["pending"]:
        assert time.monotonic() < deadline, "the training job did not finish"
        time.sleep(0.3)
        at.run()
        assert not at.exception, at.exception
    finished = job_slot(at, slot)["finished"]
    return finished[-1] if finished else None


def chart_specs(at) -> list[dict]:
    """The Plotly figures on the page, as JSON."""
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
