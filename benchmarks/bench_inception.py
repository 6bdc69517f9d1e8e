"""The trained inception blocks' measured scales over many shapes images (Architecture page).

    .venv/bin/python benchmarks/bench_inception.py [--seeds 0 1] [--images 40]

For each seed (the make_shapes images) and each block of the trained
``shapes_inception``, runs ``archdemo.trained_block`` exactly as the inception tab
does (the centre unit of the block's map, |gradient| with respect to the image)
and records per branch its theoretical field and the side of the square holding
50% and 90% of the gradient (median, min, max over the images), how often the page's
claim 1x1 <= 3x3 <= 5x5 holds, how often a branch's centre unit is switched off,
and the CPU seconds of one measurement.
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
    parser.add_argument("--images", type=int, default=40)
    args = parser.parse_args()

    import numpy as np

    from cnnviz import archdemo
    from cnnviz.data import SOURCE_CLASSES, make_shapes
    from cnnviz.models import inception

    net = inception.load_shapes_inception()
    half, most = archdemo.MASS_FRACTIONS
    rows, sentences, cpu = [], [], []
    for block in inception.BLOCKS:
        for seed in args.seeds:
            images = make_shapes(args.images, seed=seed, classes=SOURCE_CLASSES).images
            measured = []
            for image in images:
                started = time.process_time()
                measured.append(archdemo.trained_block(net, image, block))
                cpu.append(time.process_time() - started)
            sides = {f: np.array([[t.branches[b].side(f) for b in archdemo.BRANCHES]
                                  for t in measured]) for f in (half, most)}
            ordered = float(np.mean([one <= three <= five
                                     for one, three, five, _ in sides[half]]))
            off = int((sides[half] == 0).sum())
            for k, branch in enumerate(archdemo.BRANCHES):
                row = {"block": block, "seed": seed, "branch": branch,
                       "sees (px)": measured[0].branches[branch].field}
                for f in (half, most):
                    column = sides[f][:, k]
                    row[f"{f:.0%} side median"] = float(np.median(column))
                    row[f"{f:.0%} min–max"] = f"{column.min()}–{column.max()}"
                rows.append(row)
            sentences.append(f"{block}, seed {seed}: 1x1 ≤ 3x3 ≤ 5x5 (50% sides) holds on "
                             f"{ordered:.0%} of {args.images} images; {off} centre units "
                             "switched off.")
            print(sentences[-1], flush=True)
    summary = (" ".join(sentences) + f" One measurement (a block, one image, 4 gradients) "
               f"took {np.median(cpu[1:]):.2f} CPU-s (median, after the first).")
    path = write_result("inception", {
        "title": "Inception blocks: measured scale per branch (Architecture page)",
        "command": "python benchmarks/bench_inception.py",
        "settings": {"model": "shapes_inception (trained, committed)",
                     "images per seed": args.images, "seeds": args.seeds,
                     "unit": "centre of the block's map, all branch channels summed",
                     "fractions": list(archdemo.MASS_FRACTIONS)},
        "summary": summary, "rows": rows})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
