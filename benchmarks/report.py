"""Collect every benchmark's JSON result into benchmarks/README.md.

``python benchmarks/report.py`` rewrites the report from ``benchmarks/results/*.json``;
``python benchmarks/report.py --run`` first runs every ``benchmarks/bench_*.py``
(one after another, each in its own process) so the figures are fresh.

Each result file is a JSON object; the keys the report understands are
``title``, ``date``, ``machine``, ``command``, ``settings`` (dict), ``rows`` (list
of dicts, shown as a table) and ``summary`` (text). Anything else is listed as-is.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
KNOWN = ("title", "date", "machine", "command", "settings", "rows", "summary")


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(rows: list[dict]) -> list[str]:
    columns: list[str] = []
    for row in rows:
        columns += [key for key in row if key not in columns]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(row.get(c, "")) for c in columns) + " |" for row in rows]
    return lines


def section(name: str, result: dict) -> list[str]:
    lines = [f"## {result.get('title', name)}", ""]
    facts = [f"{key}: {_cell(result[key])}" for key in ("date", "machine", "command")
             if key in result]
    lines += [f"- {fact}" for fact in facts]
    settings = result.get("settings")
    if settings:
        lines.append("- settings: " + ", ".join(f"{k}={_cell(v)}" for k, v in settings.items()))
    lines.append("")
    if result.get("summary"):
        lines += [str(result["summary"]), ""]
    if result.get("rows"):
        lines += _table(result["rows"]) + [""]
    extra = {k: v for k, v in result.items() if k not in KNOWN}
    for key, value in list(extra.items()):  # any other list of records is a table too
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            lines += [f"**{key}**", ""] + _table(value) + [""]
            del extra[key]
    if extra:
        lines += _table([{"figure": k, "value": json.dumps(v) if isinstance(v, dict | list)
                          else v} for k, v in extra.items()]) + [""]
    return lines


def run_benchmarks() -> None:
    for script in sorted(HERE.glob("bench_*.py")):
        print(f"running {script.name} …", flush=True)
        started = time.monotonic()
        result = subprocess.run([sys.executable, str(script)], cwd=HERE.parent)
        status = "ok" if result.returncode == 0 else f"FAILED ({result.returncode})"
        print(f"  {status} in {time.monotonic() - started:.0f} s", flush=True)


def write_report() -> Path:
    lines = [
        "# Benchmarks",
        "",
        "Run by hand, never in CI: timings on a shared machine are not test material.",
        "Each benchmark measures its reference in the same run and prints ratios.",
        "Regenerate everything (runs every `bench_*.py`, then rewrites this file):",
        "",
        "```bash",
        ".venv/bin/python benchmarks/report.py --run",
        "```",
        "",
    ]
    for path in sorted(RESULTS.glob("*.json")):
        lines += section(path.stem, json.loads(path.read_text()))
    out = HERE / "README.md"
    out.write_text("\n".join(lines).rstrip() + "\n")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--run", action="store_true", help="run every benchmark first")
    args = parser.parse_args()
    if args.run:
        run_benchmarks()
    print(f"wrote {write_report()}")


if __name__ == "__main__":
    main()
