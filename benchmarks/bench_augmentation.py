"""A small sweep for the Augmentation page's defaults: which settings make augmentation
raise validation accuracy clearly (>= 10 points over 2 seeds), not only shrink the gap.

Every candidate trains the page's experiment (the same small CNN, same seed, same
images, without and with the pipeline) at 2 seeds. The pipelines only use
transformations that keep a synthetic shape's class: any rotation, both flips, a
small shift or zoom (a circle turned or mirrored is still a circle). The sweep stops
once its CPU budget is spent (the machine is shared). Seconds are wall time on a
shared machine; CPU seconds / 2 estimate the wall time on a quiet 2-core machine.

    .venv/bin/python benchmarks/bench_augmentation.py [--budget-cpu 900]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import machine, write_result  # noqa: E402

from cnnviz.augment import describe  # noqa: E402
from cnnviz.training import augmentation as experiment  # noqa: E402

OLD = [["flip", {"mode": "horizontal_and_vertical"}], ["rotation", {"factor": 0.1}],
       ["translation", {"factor": 0.1}]]
TURN = [["flip", {"mode": "horizontal_and_vertical"}], ["rotation", {"factor": 0.5}],
        ["translation", {"factor": 0.1}]]  # the page's default since this sweep
TURN_ZOOM = TURN + [["zoom", {"factor": 0.1}]]

#: (name, settings changes): the old default first, then one change at a time
CANDIDATES = [
    ("old default, 64 px", dict(spec=OLD)),
    ("old pipeline, 32 px", dict(spec=OLD, size=32)),
    ("full turns, 32 px", dict(spec=TURN, size=32)),
    ("full turns, 32 px, 80 epochs", dict(spec=TURN, size=32, epochs=80)),
    ("full turns + zoom, 32 px, 80 epochs", dict(spec=TURN_ZOOM, size=32, epochs=80)),
    ("full turns, 32 px, 20/class, 80 epochs", dict(spec=TURN, size=32, n_train=20,
                                                     epochs=80)),
    ("full turns, 64 px", dict(spec=TURN)),
]


def _load() -> float:
    try:
        return round(os.getloadavg()[0], 1)
    except OSError:
        return float("nan")


def measure(name: str, changes: dict, seeds) -> dict:
    per_seed = []
    for seed in seeds:
        settings = experiment.AugmentSettings(**changes, seed=seed)
        t0, c0 = time.perf_counter(), time.process_time()
        result = experiment.run(settings)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        without, with_aug = result.runs.values()
        per_seed.append({
            "seed": seed, "seconds": round(seconds, 1), "cpu_seconds": round(cpu, 1),
            "load_1min": _load(),
            "val_acc_without": round(without.last("val_accuracy"), 3),
            "val_acc_with": round(with_aug.last("val_accuracy"), 3),
            "gap_without": round(without.gap, 3), "gap_with": round(with_aug.gap, 3)})
        print(f"{name} seed {seed}: val {per_seed[-1]['val_acc_without']:.2f} -> "
              f"{per_seed[-1]['val_acc_with']:.2f}, gap {without.gap:+.2f} -> "
              f"{with_aug.gap:+.2f}; {seconds:.0f} s wall, {cpu:.0f} s CPU", flush=True)
    gains = [r["val_acc_with"] - r["val_acc_without"] for r in per_seed]
    settings = experiment.AugmentSettings(**changes)
    return {"name": name, "pipeline": describe(settings.spec), "size": settings.size,
            "n_train": settings.n_train, "n_val": settings.n_val, "epochs": settings.epochs,
            "batch_size": settings.batch_size, "learning_rate": settings.learning_rate,
            "seeds": per_seed, "mean_gain": round(sum(gains) / len(gains), 3),
            "min_gain": round(min(gains), 3),
            "cpu_seconds": round(sum(r["cpu_seconds"] for r in per_seed), 1)}


def report(candidates: list[dict], spent: float) -> dict:
    """The result file: one row per candidate (both seeds), in the report's format."""
    rows = []
    for c in candidates:
        seeds = c["seeds"]
        rows.append({
            "candidate": c["name"], "pipeline": c["pipeline"], "size": c["size"],
            "n_train": c["n_train"], "epochs": c["epochs"],
            "val_without": " / ".join(f"{r['val_acc_without']:.2f}" for r in seeds),
            "val_with": " / ".join(f"{r['val_acc_with']:.2f}" for r in seeds),
            "mean_gain": c["mean_gain"], "min_gain": c["min_gain"],
            "gap_without": " / ".join(f"{r['gap_without']:+.2f}" for r in seeds),
            "gap_with": " / ".join(f"{r['gap_with']:+.2f}" for r in seeds),
            "cpu_s": c["cpu_seconds"], "wall_s": round(sum(r["seconds"] for r in seeds), 1),
            "load_1min": " / ".join(str(r["load_1min"]) for r in seeds)})
    best = max(candidates, key=lambda c: (c["min_gain"], -c["cpu_seconds"]))
    return {
        "title": "Augmentation: which defaults make the validation gain clear",
        "command": "python benchmarks/bench_augmentation.py",
        "settings": {"seeds": "0 and 1 per candidate (values shown seed 0 / seed 1)",
                     "n_val": "50 per class (150 images)", "batch_size": 16,
                     "learning_rate": 0.001, "dataset": "shapes (circle, square, triangle)",
                     "budget": f"{spent:.0f} CPU s spent"},
        "rows": rows,
        "summary": (f"Chosen: {best['name']} (mean gain {100 * best['mean_gain']:+.0f} points, "
                    f"smallest {100 * best['min_gain']:+.0f}). Gain = last-epoch validation "
                    "accuracy with minus without augmentation, same seed. Wall seconds are "
                    "on a machine shared with other jobs (load in the last column); CPU "
                    "seconds / 2 estimate a quiet 2-core machine.")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--budget-cpu", type=float, default=900.0)
    parser.add_argument("--only", nargs="*", help="names of the candidates to run")
    args = parser.parse_args()
    print(machine(), flush=True)
    rows, spent = [], 0.0
    for name, changes in CANDIDATES:
        if args.only and name not in args.only:
            continue
        if spent >= args.budget_cpu:
            print(f"budget spent ({spent:.0f} CPU s): skipping {name}", flush=True)
            continue
        rows.append(measure(name, changes, args.seeds))
        spent += rows[-1]["cpu_seconds"]
        path = write_result("augmentation", report(rows, spent))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
