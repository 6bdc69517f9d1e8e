"""Load test: N concurrent browser sessions through every page for a few minutes.

    .venv/bin/python benchmarks/bench_load.py [--sessions 8] [--rounds 3]

Reports errors (must be 0), p50/p95 time until each page's script finishes,
peak RSS of the server, and whether any session ever saw another's image.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests"), str(HERE.parent)]

from appdriver import app_server  # noqa: E402
from common import write_result  # noqa: E402
from loadtest import run_load  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--max-seconds", type=float, default=900)
    args = parser.parse_args()
    with app_server() as (base, server):
        report = run_load(base, server.pid, sessions=args.sessions, rounds=args.rounds,
                          max_seconds=args.max_seconds)
    rows = report.rows()
    for row in rows:
        print(row)
    summary = (f"{args.sessions} sessions, {report.visits} page visits in "
               f"{report.wall_seconds:.0f} s; errors: {len(report.errors)}; isolation "
               f"failures: {len(report.isolation_failures)}; peak server RSS "
               f"{report.peak_rss_mb:.0f} MB.")
    print(summary)
    for line in report.errors + report.isolation_failures:
        print("  ", line)
    write_result("load", {
        "title": "Load test: concurrent students through every page",
        "command": "python benchmarks/bench_load.py",
        "settings": {"sessions": args.sessions, "rounds": args.rounds},
        "summary": summary,
        "rows": rows,
        "errors": report.errors + report.isolation_failures,
    })


if __name__ == "__main__":
    main()
