"""The live training experiments with their default settings: effect and time.

Augmentation: train–validation gap and validation accuracy without vs with the
default pipeline (the reference is the run without, same seed). Transfer: the
built-in shapes CNN on a similar task (new shapes) and a dissimilar one
(textures), each against the same network from scratch (the reference); then
the two damaging recipes (no freezing, high fine-tuning rate). Seconds are wall
time on this machine, which other jobs may share: read them as an upper bound;
CPU seconds (this process, both cores) / 2 estimate the wall time on a quiet
2-core machine.

    .venv/bin/python benchmarks/bench_train.py [--seeds 0 1 2] [--quick]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import machine, write_result  # noqa: E402

from cnnviz.augment import DEFAULT_SPEC, describe  # noqa: E402
from cnnviz.training import augmentation as aug_experiment  # noqa: E402
from cnnviz.training import transfer as transfer_learning  # noqa: E402


def _load() -> str:
    try:
        return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "load average unknown"


def augmentation(seeds) -> list[dict]:
    rows = []
    for seed in seeds:
        settings = aug_experiment.AugmentSettings(seed=seed, seeds=1)  # one seed per row
        t0, c0 = time.perf_counter(), time.process_time()
        result = aug_experiment.run(settings)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        without, with_aug = result.runs.values()
        rows.append({
            "seed": seed, "seconds": round(seconds, 1), "cpu_seconds": round(cpu, 1),
            "gap_without": round(without.gap, 3), "gap_with": round(with_aug.gap, 3),
            "val_acc_without": round(without.last("val_accuracy"), 3),
            "val_acc_with": round(with_aug.last("val_accuracy"), 3),
            "val_loss_without": round(without.last("val_loss"), 3),
            "val_loss_with": round(with_aug.last("val_loss"), 3),
        })
        print(f"aug seed {seed}: gap {without.gap:+.2f} -> {with_aug.gap:+.2f}  val acc "
              f"{without.last('val_accuracy'):.2f} -> {with_aug.last('val_accuracy'):.2f}  "
              f"val loss {without.last('val_loss'):.2f} -> {with_aug.last('val_loss'):.2f}  "
              f"{seconds:.0f} s wall, {cpu:.0f} s CPU ({_load()})", flush=True)
    return rows


def transfer(seeds, quick: bool) -> list[dict]:
    rows = []
    base = transfer_learning.load_base("shapes_cnn")
    cases = [("new_shapes", "standard", True), ("textures", "standard", True)]
    if not quick:
        cases += [("faces", "standard", True), ("new_shapes", "high_lr", False),
                  ("new_shapes", "no_freeze", False)]
    for seed in seeds:
        for target, recipe, scratch in cases:
            settings = dataclasses.replace(transfer_learning.TransferSettings(), target=target,
                                           recipe=recipe, scratch=scratch, seed=seed)
            t0, c0 = time.perf_counter(), time.process_time()
            result = transfer_learning.transfer_experiment(
                base, transfer_learning.transfer_split(settings), settings)
            seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
            t, s = result.transfer, result.scratch
            row = {"target": target, "recipe": recipe, "seed": seed,
                   "seconds": round(seconds, 1), "cpu_seconds": round(cpu, 1),
                   "transfer_val_acc": round(t.final_val_accuracy, 3),
                   "scratch_val_acc": round(s.final_val_accuracy, 3) if s else None,
                   "gain": round(t.final_val_accuracy - s.final_val_accuracy, 3) if s else None,
                   "phase3_drop": round(t.phase_drop(), 3),
                   "max_weight_change": round(max(t.weight_change.values()), 3),
                   "batchnorm_change": t.batchnorm_change}
            rows.append(row)
            print(f"transfer {target:10s} {recipe:9s} seed {seed}: transfer "
                  f"{row['transfer_val_acc']:.2f}  scratch {row['scratch_val_acc']}  gain "
                  f"{row['gain']}  phase-3 drop {row['phase3_drop']:.2f}  weights moved "
                  f"{row['max_weight_change']:.1%}  {seconds:.0f} s wall, {cpu:.0f} s CPU "
                  f"({_load()})",
                  flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--quick", action="store_true", help="only the two main transfer cases")
    args = parser.parse_args()
    print(f"{machine()}; {_load()}")
    aug = augmentation(args.seeds)
    tr = transfer(args.seeds, args.quick)
    path = write_result("train", {
        "settings": {"augmentation": dataclasses.asdict(aug_experiment.AugmentSettings()),
                     "pipeline": describe(DEFAULT_SPEC),
                     "transfer": dataclasses.asdict(transfer_learning.TransferSettings())},
        "note": "wall time on a machine shared with other jobs; reference = the run without "
                "augmentation / the same network trained from scratch, same seed",
        "augmentation": aug, "transfer": tr})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
