"""Shared by the benchmarks: machine description and writing a result file."""

from __future__ import annotations

import datetime
import json
import os
import platform
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> str:
    try:
        model = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                     if line.startswith("model name"))
    except (OSError, StopIteration):
        model = platform.processor() or platform.machine()
    try:
        mem = int(next(line.split()[1] for line in open("/proc/meminfo")
                       if line.startswith("MemTotal"))) / 2**20
        memory = f", {mem:.0f} GiB RAM"
    except (OSError, StopIteration):
        memory = ""
    return f"{os.cpu_count()} cores ({model}){memory}, Python {platform.python_version()}"


def write_result(name: str, result: dict) -> Path:
    """Save a benchmark's figures with date and machine for benchmarks/report.py."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamped = {"date": datetime.datetime.now().isoformat(timespec="seconds"),
               "machine": machine(), **result}
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(stamped, indent=2, default=str) + "\n")
    return path


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB, read from /proc."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")
