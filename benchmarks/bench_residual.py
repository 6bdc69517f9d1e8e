"""Plain vs residual demo: how long it takes and what it measures, per depth.

    .venv/bin/python benchmarks/bench_residual.py [--depths 10 20 50] [--steps 60]

For each depth, runs ``cnnviz.residual.compare`` with the page's default
settings (sigmoid, He-normal init, no batch norm, 16x16 make_shapes, Adam
3e-3, 128 training images) and prints the wall time, the first/last-layer
gradient norms of both networks at initialisation and after training, and the
final training losses. The reference for the time ratio is the smallest depth
measured in the same run. Also notes the load average: on a shared machine the
wall times are upper bounds; "cpu seconds" (all threads of this process) does
not grow with other processes' load, and on two idle cores the wall time is
about half to all of it.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--depths", type=int, nargs="+", default=[10, 20, 50])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--activation", default="sigmoid")
    args = parser.parse_args()

    from cnnviz import residual as R

    R.compare(R.Settings(depth=2, steps=2))  # warm-up: TensorFlow start-up, first trace
    rows = []
    for depth in args.depths:
        settings = R.Settings(depth=depth, steps=args.steps, activation=args.activation)
        started, cpu_started = time.perf_counter(), time.process_time()
        result = R.compare(settings)
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        s = R.summary(result)
        rows.append({
            "depth": depth, "seconds": round(seconds, 2), "cpu seconds": round(cpu, 2),
            "plain first (init)": f"{s['plain_init']['first']:.2e}",
            "plain last (init)": f"{s['plain_init']['last']:.2e}",
            "plain first/last (init)": f"{s['plain_init']['first_over_last']:.1e}",
            "residual first (init)": f"{s['residual_init']['first']:.2e}",
            "residual last (init)": f"{s['residual_init']['last']:.2e}",
            "residual first/last (init)": f"{s['residual_init']['first_over_last']:.2f}",
            "plain first/last (trained)": f"{s['plain_trained']['first_over_last']:.1e}",
            "residual first/last (trained)":
                f"{s['residual_trained']['first_over_last']:.2f}",
            "loss plain": f"{s['plain_loss']['start']:.2f} -> {s['plain_loss']['end']:.2f}",
            "loss residual":
                f"{s['residual_loss']['start']:.2f} -> {s['residual_loss']['end']:.2f}",
        })
    reference = rows[0]["seconds"]
    for row in rows:
        row["time vs first depth"] = f"{row['seconds'] / reference:.2f}x"
    load = os.getloadavg()[0]
    keys = list(rows[0])
    print(f"load average {load:.1f}; steps {args.steps}; activation {args.activation}")
    for row in rows:
        print("  ".join(f"{k}={row[k]}" for k in keys))
    path = write_result("residual", {
        "title": "Plain vs residual: gradient norms and time of the demo",
        "command": "python benchmarks/bench_residual.py",
        "settings": {"steps": args.steps, "activation": args.activation,
                     "load_average_1min": round(load, 1),
                     "other": "16x16 make_shapes, width 8, He-normal seed 0, no BN, "
                              "Adam 3e-3, batch 64, 128 training images; includes data "
                              "generation and both networks"},
        "rows": rows,
        "summary": (f"depth {rows[-1]['depth']}: plain first/last gradient "
                    f"{rows[-1]['plain first/last (init)']}, residual "
                    f"{rows[-1]['residual first/last (init)']}; "
                    f"{rows[-1]['seconds']} s at load {load:.1f}"),
    })
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
