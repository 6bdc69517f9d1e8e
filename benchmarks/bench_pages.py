"""Page render times: cold start to the home page, then every page cold and warm.

    .venv/bin/python benchmarks/bench_pages.py

Starts a fresh `streamlit run`, measures the time until the server answers and
until the home page's script has finished in headless Chromium (the cold start a
student sees), then opens every page through the sidebar twice: the first visit
pays for imports, model loading and tracing, the second shows the cached cost.
The home page's warm time is the reference the ratios are taken against.
"""

from __future__ import annotations

import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests"), str(HERE.parent)]

from appdriver import app_server, browser, wait_until_done  # noqa: E402
from common import rss_mb, write_result  # noqa: E402

from cnnviz.ui.navigation import PAGES  # noqa: E402


def _visit(page, label: str) -> float:
    started = time.monotonic()
    page.locator("[data-testid='stSidebar'] [data-testid='stPageLink']").get_by_text(
        label, exact=True).click()
    page.wait_for_timeout(200)
    wait_until_done(page, timeout_ms=300_000)
    return time.monotonic() - started


def main() -> None:
    started = time.monotonic()
    with app_server() as (base, server), browser() as chromium:
        health = time.monotonic() - started
        page = chromium.new_context(viewport={"width": 1280, "height": 800}).new_page()
        page.goto(base)
        wait_until_done(page)
        cold_home = time.monotonic() - started
        urllib.request.urlopen(f"{base}/_stcore/health", timeout=5).close()
        rows = []
        for target in PAGES[1:] + PAGES[:1]:
            cold = _visit(page, target.label)
            warm = _visit(page, target.label) if target.path == "streamlit_app.py" else None
            if warm is None:
                _visit(page, "Home")
                warm = _visit(page, target.label)
            rows.append({"page": target.label, "first_visit_s": round(cold, 2),
                         "warm_visit_s": round(warm, 2), "rss_mb": round(rss_mb(server.pid))})
        home_warm = next(r["warm_visit_s"] for r in rows if r["page"] == "Home")
        for row in rows:
            row["warm_vs_home"] = round(row["warm_visit_s"] / max(home_warm, 1e-3), 1)
    for row in rows:
        print(row)
    summary = (f"Server healthy {health:.1f} s after `streamlit run`; home page rendered "
               f"{cold_home:.1f} s after start (cold start, no TensorFlow imported). "
               f"Warm home page: {home_warm:.2f} s.")
    print(summary)
    write_result("pages", {
        "title": "Page render times (one session, first and second visit)",
        "command": "python benchmarks/bench_pages.py",
        "settings": {"sessions": 1, "viewport": "1280x800", "defaults": "every page"},
        "summary": summary,
        "rows": rows,
    })


if __name__ == "__main__":
    main()
