"""Plain vs residual, as the Architecture page runs it: what it measures and how long.

    .venv/bin/python benchmarks/bench_residual.py [--seeds 0 1] [--depth 50] [--steps 40]
        [--activation relu] [--no-batchnorm]

Runs ``cnnviz.residual.compare`` once per seed with the page's default settings
(ReLU, batch norm before each activation, 50 layers, 40 Adam steps) unless told
otherwise, and records per seed: the wall and CPU time (the page's button quotes
the wall time for the defaults, ``residual.DEFAULT_SECONDS``), the first/last ratio
of the backward signal ‖∂L/∂x_l‖ at initialisation and of the first-layer kernel
gradient, the training loss at the start and the end (means of the first and last
fifth of the steps), and the page's conclusion sentences (``residual_text``), so the
spread over seeds shows whether the conclusions hold. The load average is noted: on
a shared machine wall times are upper bounds; CPU seconds do not grow with load.
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
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--depth", type=int, default=50)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--activation", default="relu")
    parser.add_argument("--no-batchnorm", action="store_true")
    args = parser.parse_args()

    from cnnviz import residual as R
    from cnnviz import residual_text as T

    R.compare(R.Settings(depth=2, steps=2))  # warm-up: TensorFlow start-up, first trace
    rows = []
    for seed in args.seeds:
        settings = R.Settings(depth=args.depth, steps=args.steps, activation=args.activation,
                              batchnorm=not args.no_batchnorm, seed=seed)
        started, cpu_started = time.perf_counter(), time.process_time()
        result = R.compare(settings)
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        s = R.summary(result)
        rows.append({
            "seed": seed, "seconds": round(seconds, 1), "cpu seconds": round(cpu, 1),
            "plain signal first/last": f"{s['plain_signal']['first_over_last']:.3g}",
            "residual signal first/last": f"{s['residual_signal']['first_over_last']:.3g}",
            "plain first-layer kernel gradient": f"{s['plain_init']['first']:.3g}",
            "residual first-layer kernel gradient": f"{s['residual_init']['first']:.3g}",
            "first-layer gradient ratio plain/residual":
                f"{s['plain_init']['first'] / s['residual_init']['first']:.3g}",
            "loss plain": f"{s['plain_loss']['start']:.3f} -> {s['plain_loss']['end']:.3f}",
            "loss residual":
                f"{s['residual_loss']['start']:.3f} -> {s['residual_loss']['end']:.3f}",
            "conclusions": " ".join(T.conclusions(result)),
        })
    load = os.getloadavg()[0]
    for row in rows:
        print("  ".join(f"{k}={v}" for k, v in row.items()))
    name = f"{args.activation}{'' if args.no_batchnorm else '+BN'}"
    path = write_result("residual", {
        "title": f"Plain vs residual ({name}, depth {args.depth}): gradients, losses, time",
        "command": "python benchmarks/bench_residual.py " + " ".join(sys.argv[1:]),
        "settings": {"depth": args.depth, "steps": args.steps, "activation": args.activation,
                     "batchnorm": not args.no_batchnorm, "seeds": args.seeds,
                     "load_average_1min": round(load, 1),
                     "other": "16x16 make_shapes, width 8, He-normal, Adam 3e-3, batch 64, "
                              "128 training images; includes data generation and both "
                              "networks"},
        "rows": rows,
        "summary": "; ".join(
            f"seed {r['seed']}: plain signal {r['plain signal first/last']}, residual "
            f"{r['residual signal first/last']}, loss plain {r['loss plain']}, residual "
            f"{r['loss residual']}, {r['seconds']} s ({r['cpu seconds']} CPU s)"
            for r in rows) + f" at load {load:.1f}",
    })
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
