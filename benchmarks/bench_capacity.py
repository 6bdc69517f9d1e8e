"""Capacity of one server: CPU-seconds per page visit, the warm-up, and a class at once.

    .venv/bin/python benchmarks/bench_capacity.py [--sessions 30] [--skip-load]

The server runs pinned to core 0 (taskset); this script and the Chromium it drives
are pinned to core 1, so what is read from the server process is the server's work.

1. **Cost of a visit.** A new student's home page (the app's scripts and styles, which
   the server compresses for every new browser, and the home script); then for every
   page, the server's CPU-seconds (utime + stime from /proc) for the first visit by the
   sidebar on a cold server (warm-up off) and for a second student's (same default
   view: what every later student pays); from the warm cost, the visits per second one
   core sustains.
2. **The warm-up.** A new server with the warm-up on: its wall time and CPU-seconds,
   then each page's first visit, which should now cost what a warm visit costs.
3. **A class at once.** ``--sessions`` browser sessions (each with its own image)
   through the probing pages twice, right after the server starts (warm-up on, as
   deployed): errors, sessions that saw another's image, p50/p95 per page for the
   first round (a cold start) and the second (warm), and the peak RSS.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests"), str(HERE.parent)]

from appdriver import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    app_server,
    page_url_path,
    wait_until_done,
)
from common import write_result  # noqa: E402
from loadtest import run_load  # noqa: E402

from cnnviz.ui.navigation import PAGES  # noqa: E402

SERVER_CORE, CLIENT_CORE = "0", 1
TICKS = os.sysconf("SC_CLK_TCK")
BASE = [""]  # the server under test
PROBING = ("pages/1_Convolution.py", "pages/2_Pooling_and_Receptive_Fields.py",
           "pages/3_Architecture.py", "pages/6_Activations.py", "pages/7_Filters.py",
           "pages/8_Grad-CAM.py")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (its threads included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def settled_cpu(pid: int, quiet_s: float = 1.0, limit_s: float = 30.0) -> float:
    """The server's CPU time once it has been idle for ``quiet_s`` (a page's last
    messages and background work done)."""
    last, began = cpu_seconds(pid), time.monotonic()
    while time.monotonic() - began < limit_s:
        time.sleep(quiet_s)
        now = cpu_seconds(pid)
        if now - last < 0.05 * quiet_s:
            return now
        last = now
    return last


def open_home(chromium):
    """A new student: a new browser context (empty browser cache, a new Streamlit
    session) on the home page; the page, and the wall seconds until its script is done."""
    page = chromium.new_context(viewport={"width": 1280, "height": 720}).new_page()
    began = time.monotonic()
    page.goto(BASE[0])
    wait_until_done(page, timeout_ms=600_000)
    return page, time.monotonic() - began


def go_to(page, path: str) -> float:
    """Move to a page by the sidebar link, as a student does (no reload of the app's
    scripts and styles); the wall seconds until its script is done."""
    info = next(p for p in PAGES if p.path == path)
    began = time.monotonic()
    link = page.locator("[data-testid='stSidebar'] [data-testid='stPageLink']")
    link.get_by_text(info.label, exact=True).click()
    page.wait_for_url(f"**/{page_url_path(path)}*", timeout=600_000)
    page.wait_for_timeout(200)
    wait_until_done(page, timeout_ms=600_000)
    return time.monotonic() - began


def visit_costs(chromium, pid: int, pages) -> tuple[dict, list[dict]]:
    """The server CPU-seconds of a new student's home page (the app's scripts and styles,
    sent compressed, and the home script), and per page, of two students' first visit
    to it by the sidebar, one after the other."""
    before = settled_cpu(pid)
    page, wall = open_home(chromium)
    home = {"cpu_s": round(settled_cpu(pid) - before, 2), "wall_s": round(wall, 2)}
    page.context.close()
    rows = []
    for path in pages:
        row = {"page": page_url_path(path)}
        for which in ("first", "second"):
            page, _ = open_home(chromium)
            before = settled_cpu(pid)
            wall = go_to(page, path)
            row[f"{which}_cpu_s"] = round(settled_cpu(pid) - before, 2)
            row[f"{which}_wall_s"] = round(wall, 2)
            page.context.close()
        row["warm_visits_per_core_s"] = round(1 / max(row["second_cpu_s"], 0.01), 2)
        rows.append(row)
        print(row, flush=True)
    return home, rows


def warm_up(chromium, log: Path, pid: int) -> dict:
    """Start the warm-up (the home page once) and wait for its end; its figures."""
    before, began = cpu_seconds(pid), time.monotonic()
    page, _ = open_home(chromium)
    page.context.close()
    while "cnnviz warm-up finished" not in log.read_text(errors="replace"):
        if time.monotonic() - began > 1200:
            raise RuntimeError("the warm-up did not finish in 20 minutes")
        time.sleep(1)
    line = next(line for line in log.read_text(errors="replace").splitlines()
                if "cnnviz warm-up finished" in line)
    return {"wall_s": round(time.monotonic() - began, 1),
            "cpu_s": round(settled_cpu(pid) - before, 1), "log": line.strip()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--skip-load", action="store_true")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    os.sched_setaffinity(0, {CLIENT_CORE})  # this script and its Chromium
    pages = [p.path for p in PAGES if p.path in PROBING]
    logs = HERE / "results" / "capacity-logs"
    logs.mkdir(parents=True, exist_ok=True)
    result = {"title": "Capacity: CPU-seconds per visit, the warm-up, a class at once",
              "command": "python benchmarks/bench_capacity.py",
              "settings": {"server core": SERVER_CORE, "browser core": CLIENT_CORE,
                           "sessions": args.sessions, "rounds": args.rounds,
                           "load average at start": os.getloadavg()[0]}}
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        with app_server(cpus=SERVER_CORE, env={"CNNVIZ_WARM_UP": "0"},
                        log_path=logs / "cold.log") as (BASE[0], server):
            result["new_student_home"], result["rows"] = visit_costs(chromium, server.pid,
                                                                     pages)
        with app_server(cpus=SERVER_CORE, env={"CNNVIZ_WARM_UP": "1"},
                        log_path=logs / "warm.log") as (BASE[0], server):
            result["warm_up"] = warm_up(chromium, logs / "warm.log", server.pid)
            print(result["warm_up"], flush=True)
            _, after = visit_costs(chromium, server.pid, pages)
            for row, warmed in zip(result["rows"], after):
                row["first_after_warm_up_cpu_s"] = warmed["first_cpu_s"]
                row["first_after_warm_up_wall_s"] = warmed["first_wall_s"]
        chromium.close()
    if not args.skip_load:
        with app_server(cpus=SERVER_CORE, env={"CNNVIZ_WARM_UP": "1"},
                        log_path=logs / "load.log") as (base, server):
            report = run_load(base, server.pid, sessions=args.sessions, rounds=args.rounds,
                              pages=pages, max_seconds=3000, timeout_ms=900_000)
        result["load"] = {
            "errors": report.errors, "isolation_failures": report.isolation_failures,
            "visits": report.visits, "peak_rss_mb": round(report.peak_rss_mb),
            "wall_s": round(report.wall_seconds),
            "rounds": {str(r + 1): report.rows(r) for r in range(args.rounds)}}
        for r in range(args.rounds):
            for row in report.rows(r):
                print(f"round {r + 1}", row)
    summary = (f"A new student's home page: {result['new_student_home']['cpu_s']} CPU-s. "
               "Per page by the sidebar: ")
    summary += "; ".join(
        f"{row['page']}: cold {row['first_cpu_s']} CPU-s, warm {row['second_cpu_s']} CPU-s "
        f"({row['warm_visits_per_core_s']} visits/s per core)" for row in result["rows"])
    summary += (f". Warm-up: {result['warm_up']['cpu_s']} CPU-s in "
                f"{result['warm_up']['wall_s']} s.")
    if "load" in result:
        load = result["load"]
        summary += (f" {args.sessions} sessions: {len(load['errors'])} errors, "
                    f"{len(load['isolation_failures'])} mix-ups, peak RSS "
                    f"{load['peak_rss_mb']} MB.")
    result["summary"] = summary
    print(summary)
    write_result("capacity", result)


if __name__ == "__main__":
    main()
