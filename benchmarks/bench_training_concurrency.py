"""Three students start training at once (two with identical settings) while a fourth
keeps probing.

    .venv/bin/python benchmarks/bench_training_concurrency.py [--defaults]

Reports whether all trainings finished, how many waited in the queue (shown their
position), how many shared another's identical run, and the probing page's rerun
latency while they ran, against its latency before any training started (the
reference, measured in the same run).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests"), str(HERE.parent)]

from appdriver import app_server  # noqa: E402
from common import write_result  # noqa: E402
from trainingload import PROBE_PAGE, SEEDS, TRAIN_PAGE, run_training_load  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--defaults", action="store_true",
                        help="train with the page's default settings (about a minute each)")
    args = parser.parse_args()
    with app_server() as (base, _):
        report = run_training_load(base, minimum_settings=not args.defaults)
    figures = report.summary()
    print(figures)
    idle, busy = figures["probe_p50_idle_s"], figures["probe_p50_during_training_s"]
    write_result("training_concurrency", {
        "title": "Three trainings at once (two identical), a fourth student probing",
        "command": "python benchmarks/bench_training_concurrency.py"
                   + (" --defaults" if args.defaults else ""),
        "settings": {"training page": TRAIN_PAGE, "probing page": PROBE_PAGE,
                     "training settings": "page defaults" if args.defaults
                     else "smallest (5 images per class, 5 epochs)",
                     "seeds of the three trainers": SEEDS,
                     "training workers": "1 (CNNVIZ_TRAINING_WORKERS unset)"},
        "summary": (f"{figures['trainers_finished']}/3 trainings finished, "
                    f"{figures['trainers_that_joined']} shared an identical run, "
                    f"{figures['trainers_that_waited']} waited with their queue position "
                    f"shown; probing rerun p50 {idle} s before training, {busy} s during it "
                    f"(p95 {figures['probe_p95_during_training_s']} s)."),
        "rows": [figures],
    })

if __name__ == "__main__":
    main()
