"""Template matching across images, as the Convolution page measures it.

1. How often each sentence of the shapes demo holds, over many scene seeds: the
   circle cut from scene 1 is scored on the two circles and the other shape of
   scene 2 (normalised cross-correlation, grey, 128 pixels, the patch around the
   shape), for each kind of other shape. The page's default seed is one of them;
   this says how typical it is.
2. The time of the page's matching step (NCC, the best matches, each object's score)
   for each image pair at each working size.

    .venv/bin/python benchmarks/bench_matching.py [--seeds 200]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere

from benchmarks.common import write_result  # noqa: E402
from cnnviz import conv, matching  # noqa: E402


def _scene(seed: int, decoy: str) -> dict:
    pair = matching.shape_scenes("circle", decoy, seed)
    grey_cut, grey = conv.to_gray(pair.kernel_image), conv.to_gray(pair.search_image)
    k, top, left = matching.patch_around(pair.cut_mask, 64)
    kernel = grey_cut[top:top + k, left:left + k]
    ncc = conv.match_template(grey, kernel)
    scores = matching.object_scores(ncc, kernel.shape, pair.masks)
    best = matching.top_matches(ncc, 1, kernel.shape, masks=pair.masks)[0]
    raw = matching.raw_sentence(grey, conv.convolve(grey, kernel),
                                conv.geometry(grey.shape, kernel.shape), best, pair.masks,
                                pair.objects)
    said = matching.scene_sentence(pair, scores, grey_cut, grey)
    outcome = ("found, told apart" if "finds the circle's pattern" in said else
               "a circle weak: reversed contrast" if "reversed contrast" in said else
               "a circle weak: size, rotation, colour, clutter" if "below" in said else
               "not told apart")
    return {"circles": scores[:2], "other": scores[2], "outcome": outcome,
            "raw elsewhere": "instead" in raw}


def _outcomes(seeds: int) -> list[dict]:
    rows = []
    for decoy in ("square", "triangle", "star", "cross"):
        found = [_scene(seed, decoy) for seed in range(seeds)]
        circles = np.array([f["circles"] for f in found])
        others = np.array([f["other"] for f in found])
        row = {"other shape": decoy, "seeds": seeds,
               "circle score (mean ± sd)": f"{np.nanmean(circles):.2f} ± "
                                           f"{np.nanstd(circles):.2f}",
               "other score (mean ± sd)": f"{np.nanmean(others):.2f} ± {np.nanstd(others):.2f}"}
        for outcome in ("found, told apart", "not told apart", "a circle weak: reversed "
                        "contrast", "a circle weak: size, rotation, colour, clutter"):
            row[outcome] = f"{np.mean([f['outcome'] == outcome for f in found]):.0%}"
        row["raw sum peaks elsewhere"] = f"{np.mean([f['raw elsewhere'] for f in found]):.0%}"
        rows.append(row)
        print(row, flush=True)
    return rows


def _step(x, kernel, masks) -> None:
    """The page's matching step: NCC, the best matches, each object's score."""
    ncc = conv.match_template(x, kernel)
    matching.top_matches(ncc, 3, kernel.shape[:2], masks=masks)
    if masks is not None:
        matching.object_scores(ncc, kernel.shape[:2], masks)


def _timings(repeats: int) -> list[dict]:
    rows = []
    pairs = {"shapes": matching.shape_scenes(), "motorcycle": matching.stereo_photos()}
    for name, pair in pairs.items():
        for size in (128, 256, 512):
            small = matching.shrink_pair(pair, size)
            if size > max(small.search_image.shape[:2]):
                continue  # the page does not enlarge an image: the same as a smaller size
            cut, x = conv.to_float(small.kernel_image), conv.to_float(small.search_image)
            h, w = cut.shape[:2]
            k = max(3, min(64, min(h, w) // 2, round(0.25 * w)))
            top, left = h // 2 - k // 2, w // 2 - k // 2
            kernel = cut[top:top + k, left:left + k]

            _step(x, kernel, small.masks)
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                _step(x, kernel, small.masks)
                times.append(time.perf_counter() - start)
            rows.append({"pair": name, "working size": size, "image": f"{w}x{h}",
                         "kernel": f"{k}x{k}x3",
                         "matching ms (best)": 1000 * min(times)})
            print(rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    outcomes = _outcomes(args.seeds)
    path = write_result("matching", {
        "title": "matching: the shapes demo over scene seeds, and the matching step's time",
        "command": "python benchmarks/bench_matching.py",
        "settings": {"seeds": f"0-{args.seeds - 1}", "cut": "circle", "size": 128,
                     "channels": "grey", "match": f"NCC >= {matching.MATCH}",
                     "told apart": f"circles >= {matching.MARGIN} above the other shape",
                     "page default seed": matching.SCENE_SEED},
        "summary": "How often each sentence of the page holds for a scene pair; the raw "
                   "sum 'peaks elsewhere' when its maximum is not on the best NCC match's "
                   "object.",
        "rows": outcomes,
        "timings": _timings(args.repeats),
    })
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
