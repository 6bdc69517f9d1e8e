"""The feature hierarchy of the built-in model: linear-probe accuracy per depth.

    .venv/bin/python benchmarks/bench_hierarchy.py [--seeds 0 1] [--images 300]

For each seed (the make_shapes probe images), runs ``cnnviz.hierarchy.measure``
exactly as the Activations page does (every conv and pooling layer, 5 stratified
train/test splits, ridge classifier on globally averaged activations) on the
trained built-in model and, as a control, on the same architecture with random
weights. Also records the share of zeros per depth over the probe images, counted
after each ReLU (the page's statistic) and on each layer's own output (the old one,
which counted BatchNorm's negative outputs at the pooling layers as zeros), and the
wall / CPU seconds of one probe (images made, forward passes, probes), with the load
average: on a shared machine the wall time is an upper bound.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).parent))

from common import write_result  # noqa: E402


def _round(values):
    return [round(float(v), 3) for v in values]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--images", type=int, default=300)
    args = parser.parse_args()

    import numpy as np

    from cnnviz import activations, hierarchy, models, probe
    from cnnviz.models.builtin import build_shapes_cnn

    trained = models.load_model("shapes_cnn")
    untrained = build_shapes_cnn(seed=0)
    infos = probe.feature_layers(trained, kinds=probe.default_kinds(probe.feature_layers(trained)))
    names = [i.name for i in infos]
    depths = {i.name: i.depth for i in infos}
    zeros_at = activations.nonlinearity_layers(trained, names)
    hierarchy.measure(trained, *hierarchy.probe_images("shapes_cnn", 50, 99)[:2], names)  # warm
    runs = []
    for seed in args.seeds:
        started, cpu = time.perf_counter(), time.process_time()
        x, labels, _ = hierarchy.probe_images("shapes_cnn", args.images, seed)
        h = hierarchy.measure(trained, x, labels, names, depths, seed=seed)
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
        control = hierarchy.measure(untrained, x, labels, names, depths, seed=seed)
        maps = activations.extract(trained, x[:100], names)
        after = activations.layer_statistics(maps, depths, zeros_at=zeros_at, layers=names)
        own = activations.layer_statistics(maps, depths)
        runs.append({
            "seed": seed, "seconds": round(seconds, 2), "cpu seconds": round(cpu_seconds, 2),
            "load average": round(os.getloadavg()[0], 2),
            "accuracy": _round(h.accuracy), "spread over splits": _round(h.spread),
            "accuracy, 16 features per layer": _round(h.accuracy_equal),
            "accuracy, random weights": _round(control.accuracy),
            "chance": round(h.chance, 3), "rises (>= 15 points)": hierarchy.rises(h),
            "best layer": h.best,
            "zeros after ReLU (100 images)": [None if not np.isfinite(r["fraction zero"])
                                              else round(r["fraction zero"], 3) for r in after],
            "zeros on the layer's own output (old)": _round(r["fraction zero"] for r in own),
            "sentence": " ".join(hierarchy.describe(h)),
        })
        print(f"seed {seed}: {seconds:.1f} s wall, {cpu_seconds:.1f} s CPU")
        for name, a, s, e, r in zip(names, h.accuracy, h.spread, h.accuracy_equal,
                                    control.accuracy):
            print(f"  {name:14s} {a:.0%} ± {s:.0%}   16 features {e:.0%}   random {r:.0%}")
    rows = []
    for k, name in enumerate(names):
        row = {"layer": name, "depth": depths[name], "channels": infos[k].channels}
        for run in runs:
            row[f"probe s{run['seed']}"] = run["accuracy"][k]
        for run in runs:
            row[f"± s{run['seed']}"] = run["spread over splits"][k]
        for run in runs:
            row[f"16 features s{run['seed']}"] = run["accuracy, 16 features per layer"][k]
        for run in runs:
            row[f"random weights s{run['seed']}"] = run["accuracy, random weights"][k]
        row["zeros after ReLU"] = runs[0]["zeros after ReLU (100 images)"][k]
        row["zeros, own output (old)"] = runs[0]["zeros on the layer's own output (old)"][k]
        rows.append(row)
    summary = " ".join(
        f"Seed {run['seed']}: {run['sentence']} One probe took {run['seconds']} s wall, "
        f"{run['cpu seconds']} s CPU at load {run['load average']}." for run in runs)
    path = write_result("hierarchy", {
        "title": "Feature hierarchy: linear-probe accuracy per depth (Activations page)",
        "command": "python benchmarks/bench_hierarchy.py",
        "settings": {"model": "shapes_cnn (trained)", "probe images": args.images,
                     "seeds": args.seeds, "splits": hierarchy.SPLITS,
                     "test fraction": round(hierarchy.TEST_FRACTION, 3),
                     "ridge": hierarchy.RIDGE, "equal features": hierarchy.EQUAL_FEATURES,
                     "control": "build_shapes_cnn(seed=0) untrained",
                     "zeros": "over 100 probe images, seed of the first run"},
        "summary": summary, "rows": rows})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
