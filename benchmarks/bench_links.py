"""Time to open a shared link on a warm server: a student's fresh browser opens a view.

    .venv/bin/python benchmarks/bench_links.py [--repeats 3]

The server is warmed by opening each link once; then each link is opened again in a
new browser context (no session, no cookies) ``repeats`` times. Reported per link:
seconds from the address until the page's script has finished (the page is drawn),
best and median, with the machine's load average (the machine is shared).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests"), str(HERE.parent)]

from appdriver import DONE, app_server, browser  # noqa: E402
from common import write_result  # noqa: E402

LINKS = (
    "Convolution?colour=rgb&kernel=classic&classic=gabor&angle=45&stride=2&dil=3",
    "Grad-CAM?shape=star&seed=4&cls=1&layer=block2_conv2&pool=max",
)


def _open(chromium, url: str) -> float:
    context = chromium.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    start = time.perf_counter()
    page.goto(url)
    page.wait_for_selector("[data-testid='stMain'] h1", timeout=240_000)  # the page's title
    page.wait_for_selector(DONE, timeout=240_000)
    seconds = time.perf_counter() - start
    context.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    rows = []
    with app_server() as (base, _), browser() as chromium:
        for link in LINKS:
            cold = _open(chromium, f"{base}/{link}")
            times = [_open(chromium, f"{base}/{link}") for _ in range(args.repeats)]
            rows.append({"link": link, "first open (cold) s": cold, "best s": min(times),
                         "median s": statistics.median(times)})
            print(rows[-1])
    result = {
        "title": "Opening a shared link (a view in the URL) on a warm server",
        "command": "python benchmarks/bench_links.py",
        "settings": {"repeats": args.repeats, "viewport": "1280x720",
                     "load_average_1min": f"{load_before:.1f} → {os.getloadavg()[0]:.1f}"},
        "rows": rows,
        "summary": "Seconds from the address to the page's finished script, each open in a "
                   "new browser context (a student's browser), after one warming open.",
    }
    print(write_result("links", result))


if __name__ == "__main__":
    main()
