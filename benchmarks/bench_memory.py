"""Memory budget of the real server: RSS after visiting every page, growth over reruns.

Starts `streamlit run`, opens one browser session, visits every page with its
defaults (RSS after each), then reruns each heavy page N times (the "R" key,
as a student pressing rerun or touching a widget) and reports the RSS growth.
Target (issue 8): < 1.5 GB after visiting everything, flat over reruns.

    .venv/bin/python benchmarks/bench_memory.py [--reruns 50]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests"), str(HERE.parent)]

from appdriver import app_server, browser, wait_until_done  # noqa: E402
from common import rss_mb, write_result  # noqa: E402

from cnnviz.ui.navigation import PAGES  # noqa: E402

HEAVY = ("Grad-CAM", "Activations", "Filters", "Architecture lab",
         "Pooling & receptive fields")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reruns", type=int, default=50)
    args = parser.parse_args()
    rows = []
    with app_server() as (base, server), browser() as chromium:
        page = chromium.new_context(viewport={"width": 1280, "height": 800}).new_page()
        page.goto(base)
        wait_until_done(page)
        start_rss = rss_mb(server.pid)
        rows.append({"step": "home page", "rss_mb": round(start_rss)})
        for target in PAGES[1:]:
            page.locator("[data-testid='stSidebar'] [data-testid='stPageLink']").get_by_text(
                target.label, exact=True).click()
            page.wait_for_timeout(300)
            wait_until_done(page, timeout_ms=300_000)
            rows.append({"step": f"visit {target.label}", "rss_mb": round(rss_mb(server.pid))})
        after_visits = rss_mb(server.pid)
        growth = {}
        for target in PAGES:
            if target.label not in HEAVY:
                continue
            page.locator("[data-testid='stSidebar'] [data-testid='stPageLink']").get_by_text(
                target.label, exact=True).click()
            page.wait_for_timeout(300)
            wait_until_done(page, timeout_ms=300_000)
            # warm-up reruns fill caches that are meant to be filled once
            for _ in range(3):
                page.locator("body").press("r")
                page.wait_for_timeout(200)
                wait_until_done(page, timeout_ms=300_000)
            before = rss_mb(server.pid)
            started = time.monotonic()
            for _ in range(args.reruns):
                page.locator("body").press("r")
                page.wait_for_timeout(150)
                wait_until_done(page, timeout_ms=300_000)
            after = rss_mb(server.pid)
            seconds = (time.monotonic() - started) / args.reruns
            growth[target.label] = after - before
            rows.append({"step": f"{args.reruns} reruns of {target.label}",
                         "rss_mb": round(after), "growth_mb": round(after - before, 1),
                         "s_per_rerun": round(seconds, 2)})
        final = rss_mb(server.pid)
    for row in rows:
        print(row)
    write_result("memory", {
        "title": "Memory: server RSS after visiting every page, and over reruns",
        "command": "python benchmarks/bench_memory.py",
        "settings": {"reruns_per_heavy_page": args.reruns, "sessions": 1},
        "summary": (f"RSS {start_rss:.0f} MB on the home page, {after_visits:.0f} MB after "
                    f"visiting every page (target < 1536 MB), {final:.0f} MB at the end; "
                    f"largest growth over {args.reruns} reruns: "
                    f"{max(growth.values(), default=0):.1f} MB."),
        "rows": rows,
    })


if __name__ == "__main__":
    main()
