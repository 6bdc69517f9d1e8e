"""The time each training button promises, measured: its defaults, on this machine.

    .venv/bin/python benchmarks/bench_train_buttons.py [--kinds augmentation transfer ...]

For every kind of training job (the buttons "Train both" on Augmentation and on
Pooling, "Run" on Transfer learning, "Measure both networks" on Architecture):

1. the job function called directly with the page's default settings: the
   reference, wall and CPU seconds (CPU = every thread of this process: on a
   shared machine wall time grows with the others' load, CPU time does not);
2. the same with a quarter of the epochs (steps): with 1., the fixed seconds and
   the seconds per unit of work of ``cnnviz.jobs.estimates`` (the first guesses it
   ships with are this fit);
3. the defaults again, submitted to the in-process job pool, against the reference
   (ratio: the job system's overhead) and against the pool's own estimate made
   before the run (ratio: how good the promise on the button is).

A warm-up (every kind once, tiny) comes first, so TensorFlow's one-time start-up
is not charged to the first button. Writes ``benchmarks/results/train_buttons.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import machine, write_result  # noqa: E402

from cnnviz import residual  # noqa: E402
from cnnviz.jobs import EmbeddedPool, State  # noqa: E402
from cnnviz.jobs.estimates import Estimator  # noqa: E402
from cnnviz.jobs.kinds import KINDS, resolve  # noqa: E402
from cnnviz.training import augmentation, pair, transfer  # noqa: E402

#: kind -> (page and button, the page's default settings, the same with 1/4 of the work,
#: a tiny run for the warm-up, the promise the page made before it was measured)
BUTTONS = {
    "augmentation": ("Augmentation · Train both", augmentation.AugmentSettings(),
                     augmentation.AugmentSettings(epochs=10),
                     augmentation.AugmentSettings(n_train=3, n_val=3, epochs=1),
                     "about a minute"),
    "transfer": ("Transfer learning · Run", transfer.TransferSettings(),
                 dataclasses.replace(transfer.TransferSettings(), head_epochs=4,
                                     fine_tune_epochs=2),
                 dataclasses.replace(transfer.TransferSettings(), n_train=3, n_val=3,
                                     head_epochs=1, fine_tune_epochs=1),
                 "under a minute"),
    "pooled_vs_plain": ("Pooling · Train both", pair.PairSettings(),
                        pair.PairSettings(epochs=2), pair.PairSettings(n_train=100, epochs=1),
                        "about a minute on a laptop"),
    "residual": ("Architecture · Measure both networks", residual.Settings(),
                 residual.Settings(steps=15), residual.Settings(depth=2, steps=2),
                 "a few seconds"),
}


def _load() -> float:
    return round(os.getloadavg()[0], 1)


def _timed(function, *args):
    wall, cpu = time.perf_counter(), time.process_time()
    result = function(*args)
    return result, time.perf_counter() - wall, time.process_time() - cpu


def measure(kind: str) -> dict:
    label, defaults, quarter, _, promise = BUTTONS[kind]
    run, cost = resolve(KINDS[kind].run), resolve(KINDS[kind].cost)
    load_before = _load()
    _, wall, cpu = _timed(run, defaults)
    _, wall_q, cpu_q = _timed(run, quarter)
    units, units_q = cost(defaults)[1], cost(quarter)[1]
    per_unit = max(wall - wall_q, 0.0) / (units - units_q)
    fixed = max(wall - per_unit * units, 0.0)

    pool = EmbeddedPool(1, estimator=Estimator())
    try:
        expected = pool.estimate(kind, defaults)

        def through_pool():
            job = pool.submit(kind, defaults)
            while (status := pool.status(job)).state not in (State.DONE, State.FAILED):
                time.sleep(0.05)
            assert status.state is State.DONE, status.error
            return status

        _, wall_pool, cpu_pool = _timed(through_pool)
    finally:
        pool.close()
    row = {
        "button": label, "kind": kind, "promise before": promise,
        "settings": ", ".join(f"{k}={v}" for k, v in dataclasses.asdict(defaults).items()
                              if k not in ("data", "spec")),
        "wall s": round(wall, 1), "cpu s": round(cpu, 1),
        "wall s, 1/4 of the work": round(wall_q, 1), "cpu s, 1/4": round(cpu_q, 1),
        "cost class": cost(defaults)[0], "units": round(units, 1),
        "fit: fixed s": round(fixed, 2), "fit: s per unit": float(f"{per_unit:.3g}"),
        "through the pool: wall s": round(wall_pool, 1),
        "through the pool: cpu s": round(cpu_pool, 1),
        "pool / direct (wall)": round(wall_pool / wall, 2),
        "estimate before the run s": None if expected is None else round(expected, 1),
        "measured / estimate": None if not expected else round(wall_pool / expected, 2),
        "load average before/after": [load_before, _load()],
    }
    print("  ".join(f"{k}={v}" for k, v in row.items() if k != "settings"), flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kinds", nargs="+", default=list(BUTTONS), choices=list(BUTTONS))
    args = parser.parse_args()
    print(f"{machine()}; load average {_load()}", flush=True)
    for kind in args.kinds:  # warm-up: TensorFlow start-up and first traces
        resolve(KINDS[kind].run)(BUTTONS[kind][3])
    rows = [measure(kind) for kind in args.kinds]
    guesses = {row["cost class"]: (row["fit: fixed s"], row["fit: s per unit"]) for row in rows}
    print("first guesses for cnnviz/jobs/estimates.py:", guesses)
    path = write_result("train_buttons", {
        "title": "Training buttons: measured time with the page defaults",
        "command": "python benchmarks/bench_train_buttons.py",
        "settings": {"reference": "the job function called directly, same settings, same run",
                     "cpu": "process CPU seconds, all threads (both cores)",
                     "machine load": "shared with other jobs: see load average per row"},
        "rows": rows,
        "note": "estimate before the run = cnnviz/jobs/estimates.py FIRST_GUESS as shipped "
                "(the fit of an earlier run); first_guesses = this run's fit",
        "first_guesses": guesses,
        "summary": "; ".join(f"{r['button']}: {r['wall s']} s wall, {r['cpu s']} s CPU "
                             f"(was promised: {r['promise before']})" for r in rows),
    })
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
