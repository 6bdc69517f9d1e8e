"""Transfer vs scratch, fairly: the learning rate of each arm, then the gain per data size.

    .venv/bin/python benchmarks/bench_transfer.py grid     # each arm's learning rate
    .venv/bin/python benchmarks/bench_transfer.py sizes    # gain vs images per class

``grid``: the same tuning budget for both arms. At the page's default settings
(shapes CNN base, similar target, 8 training images per class, 15 + 10 epochs), the
transfer arm's phase-2 (head) rate and the scratch arm's rate are each picked from
``LEARNING_RATE_GRID`` by their mean final validation accuracy over seeds 0 and 1.
Scratch trains every layer, BatchNorm included, for as many epochs.

``sizes``: with those rates, transfer and scratch on the similar (new shapes) and
dissimilar (textures) targets at several training-set sizes, 2 seeds each; the gain
is transfer minus scratch final validation accuracy. "cpu seconds" counts this
process's threads, which other processes' load does not inflate.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).parent))

from common import RESULTS, write_result  # noqa: E402


def _timed(settings):
    from cnnviz.training import transfer as train

    started, cpu = time.perf_counter(), time.process_time()
    result = train.run(settings)
    return result, round(time.perf_counter() - started, 1), round(time.process_time() - cpu, 1)


def _timed_scratch(settings):
    """The scratch arm alone (``run`` would train the transfer arm first)."""
    from cnnviz.training import transfer as train

    started, cpu = time.perf_counter(), time.process_time()
    run = train.run_scratch(train.load_base(settings.base), train.transfer_split(settings),
                            settings)
    return run, round(time.perf_counter() - started, 1), round(time.process_time() - cpu, 1)


def grid(seeds, arms, kept_rows) -> dict:
    """Each arm in ``arms`` over the grid; the other arm's rows are kept from before."""
    from cnnviz.training import transfer as train

    rows = [r for r in kept_rows if r["arm"] not in arms]
    for lr in train.LEARNING_RATE_GRID:
        for seed in seeds:
            for arm in arms:
                if arm == "transfer":
                    result, seconds, cpu = _timed(dataclasses.replace(
                        train.TransferSettings(), head_lr=lr, seed=seed, scratch=False))
                    run = result.transfer
                else:
                    run, seconds, cpu = _timed_scratch(dataclasses.replace(
                        train.TransferSettings(), scratch_lr=lr, seed=seed))
                rows.append({"arm": arm, "learning_rate": lr, "seed": seed,
                             "val_acc": round(run.final_val_accuracy, 3),
                             "seconds": seconds, "cpu_seconds": cpu})
                print(rows[-1], flush=True)
    best = {}
    for arm in ("transfer", "scratch"):
        means = {lr: sum(r["val_acc"] for r in rows if r["arm"] == arm
                         and r["learning_rate"] == lr) / len(seeds)
                 for lr in train.LEARNING_RATE_GRID}
        best[arm] = {"learning_rate": max(means, key=means.get),
                     "mean_val_acc_per_rate": {f"{k:g}": round(v, 3) for k, v in means.items()}}
    return {"rows": rows, "best": best}


def sizes(sizes_per_class, seeds, targets) -> list[dict]:
    from cnnviz.training import transfer as train

    rows = []
    for target in targets:
        for n in sizes_per_class:
            for seed in seeds:
                settings = dataclasses.replace(train.TransferSettings(), target=target,
                                               n_train=n, seed=seed)
                result, seconds, cpu = _timed(settings)
                t, s = result.transfer, result.scratch
                rows.append({
                    "target": target, "n_train": n, "seed": seed,
                    "transfer_val_acc": round(t.final_val_accuracy, 3),
                    "scratch_val_acc": round(s.final_val_accuracy, 3),
                    "gain": round(t.final_val_accuracy - s.final_val_accuracy, 3),
                    "phase3_drop": round(t.phase_drop(), 3),
                    "batchnorm_change": t.batchnorm_change,
                    "seconds": seconds, "cpu_seconds": cpu})
                print(rows[-1], flush=True)
    return rows


def summarise(kept: dict) -> dict:
    """Title, rows (the sizes) and the page's conclusion sentences for the report."""
    from cnnviz.training import transfer_claims as claims

    rows = kept.get("sizes", [])
    gains: dict[str, dict[int, list[float]]] = {}
    scratch: dict[str, dict[int, list[float]]] = {}
    for r in rows:
        gains.setdefault(r["target"], {}).setdefault(r["n_train"], []).append(r["gain"])
        scratch.setdefault(r["target"], {}).setdefault(r["n_train"], []).append(
            r["scratch_val_acc"])
    lines = []
    best = kept.get("learning_rates", {}).get("best", {})
    for arm, pick in best.items():
        lines.append(f"{arm}: learning rate {pick['learning_rate']:g} (mean final val acc per "
                     f"rate: {pick['mean_val_acc_per_rate']})")
    for target, by_size in gains.items():
        for n, values in sorted(by_size.items()):
            lines.append(f"{target}, {n}/class: {claims.gain_sentence(values)}")
        lines.append(f"{target}: {claims.catch_up_sentence(dict(sorted(by_size.items())))}")
    if {"new_shapes", "textures"} <= set(gains):
        for n in sorted(set(gains["new_shapes"]) & set(gains["textures"])):
            lines.append(f"{n}/class: " + claims.similarity_sentence(
                gains["new_shapes"][n], gains["textures"][n], scratch["textures"][n]))
    return {"title": "Transfer vs scratch (BatchNorm trainable): learning rates, gain per "
                     "data size, similar vs dissimilar",
            "command": "python benchmarks/bench_transfer.py grid; python "
                       "benchmarks/bench_transfer.py sizes --targets new_shapes & "
                       "python benchmarks/bench_transfer.py sizes --targets textures",
            "rows": rows, "summary": "\n".join(f"- {line}" for line in lines)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("part", choices=["grid", "sizes"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--sizes", type=int, nargs="+", default=[8, 64])
    parser.add_argument("--targets", nargs="+", default=["new_shapes", "textures"])
    parser.add_argument("--arms", nargs="+", default=["transfer", "scratch"],
                        help="grid: the arms to tune (the other's rows are kept)")
    args = parser.parse_args()

    from cnnviz.training import transfer as train

    path = RESULTS / "transfer.json"
    load = os.getloadavg()[0]
    before = json.loads(path.read_text()) if path.exists() else {}
    measured = grid(args.seeds, args.arms, before.get("learning_rates", {}).get("rows", [])) \
        if args.part == "grid" else sizes(args.sizes, args.seeds, args.targets)
    # read what is there only now: two processes may run the sizes of two targets
    kept = json.loads(path.read_text()) if path.exists() else {}
    if args.part == "grid":
        kept["learning_rates"] = measured
    else:
        new = {(r["target"], r["n_train"], r["seed"]) for r in measured}
        kept["sizes"] = sorted([r for r in kept.get("sizes", [])
                                if (r["target"], r["n_train"], r["seed"]) not in new]
                               + measured, key=lambda r: (r["target"], r["n_train"], r["seed"]))
    kept.setdefault("load_average_before", {})[args.part] = round(load, 2)
    kept.update(summarise(kept))
    kept["settings"] = {k: v for k, v in dataclasses.asdict(train.TransferSettings()).items()
                        if k != "data"}
    kept["settings"]["scratch_batchnorm_momentum"] = train.SCRATCH_BATCHNORM_MOMENTUM
    kept.pop("date", None)
    kept.pop("machine", None)
    print(write_result("transfer", kept))


if __name__ == "__main__":
    main()
