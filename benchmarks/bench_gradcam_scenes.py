"""Is each attribution method class-discriminative? The pointing game per class on scenes.

Scenes of two (``--objects``) shapes of different classes, drawn by
``cnnviz.classmaps.make_scenes`` (each object with its own mask). For every object,
each method explains THAT object's class with the trained built-in model; a hit is
the map's peak (at the map's own resolution) inside that object's mask. Also
counted: peaks on the other object. Chance is the explained object's mean share of
the image (what a random map scores); a random 16x16 map is scored too. Repeated for
each seed in ``--seeds`` (different scenes), so the spread shows.

Also: the same score per pair of classes for Grad-CAM (which pairs it confuses).

    .venv/bin/python benchmarks/bench_gradcam_scenes.py [--scenes 200] [--seeds 0 1]

Writes benchmarks/results/gradcam_scenes.json.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from common import write_result  # noqa: E402

#: the settings the page uses for the methods that run the model many times
OPTIONS = {"scorecam": {"top_k": 32}, "smoothgrad": {"samples": 16},
           "integrated_gradients": {"steps": 32}, "occlusion": {}}


def pair_scores(model, class_names, scenes_per_pair: int, seed: int) -> list[dict]:
    """Grad-CAM's per-class pointing game for every pair of classes."""
    from cnnviz import classmaps
    from cnnviz.data import make_scene

    rows = []
    for a, b in itertools.combinations(class_names, 2):
        drawn = [make_scene([a, b], seed=seed * 10_000 + i, class_names=class_names)
                 for i in range(scenes_per_pair)]
        scenes = classmaps.Scenes(np.stack([s.image for s in drawn]),
                                  np.stack([s.labels for s in drawn]),
                                  np.stack([s.masks for s in drawn]), class_names, seed)
        score = classmaps.scene_pointing(model, scenes, ["gradcam"])[0]
        rows.append({"pair": f"{a}+{b}", "own": round(score.own, 3),
                     "other": round(score.other, 3),
                     **{f"own {c}": round(score.per_class[c][0], 3) for c in (a, b)}})
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenes", type=int, default=200)
    parser.add_argument("--objects", type=int, default=2)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--pairs", type=int, default=20, help="scenes per pair of classes")
    args = parser.parse_args()

    from cnnviz import cam, classmaps, evaluate, models
    from cnnviz.models import builtin

    if not builtin.WEIGHTS_PATH.is_file():
        print("the built-in model's trained weights are missing")
        return 1
    load_before = os.getloadavg()[0]
    model = models.load_model(builtin.NAME)
    class_names = tuple(models.class_names(builtin.NAME))
    layer = cam.default_layer(model)
    methods = (*cam.METHODS, evaluate.RANDOM)
    rows = []
    for seed in args.seeds:
        scenes = classmaps.make_scenes(args.scenes, objects=args.objects, seed=seed,
                                       class_names=class_names)
        for score in classmaps.scene_pointing(model, scenes, methods, layer=layer,
                                              options=OPTIONS, seed=seed):
            rows.append({
                "method": score.method, "seed": seed, "maps": score.maps,
                "own object": round(score.own, 3), "other object": round(score.other, 3),
                "chance": round(score.chance, 3),
                "tells apart": classmaps.discriminates(score),
                **{f"own {c}": round(v[0], 3) for c, v in score.per_class.items()},
                "seconds": round(score.seconds, 1)})
    summary = []
    for method in methods:
        own = [r["own object"] for r in rows if r["method"] == method]
        other = [r["other object"] for r in rows if r["method"] == method]
        summary.append({"method": method, "own object, mean": round(float(np.mean(own)), 3),
                        "own object, spread over seeds": round(float(np.ptp(own)), 3),
                        "other object, mean": round(float(np.mean(other)), 3),
                        "tells apart in every seed": all(
                            r["tells apart"] for r in rows if r["method"] == method)})
    pairs = pair_scores(model, class_names, args.pairs, args.seeds[0])
    load_after = os.getloadavg()[0]

    print(f"Pointing game per class, {args.scenes} scenes of {args.objects} shapes per seed, "
          f"seeds {args.seeds}, layer {layer}")
    print(f"{'method':22s} {'seed':>4s} {'own':>6s} {'other':>6s} {'chance':>7s} {'apart':>6s}")
    for r in rows:
        print(f"{r['method']:22s} {r['seed']:4d} {r['own object']:6.3f} {r['other object']:6.3f} "
              f"{r['chance']:7.3f} {str(r['tells apart']):>6s}")
    print(f"\nGrad-CAM per pair of classes ({args.pairs} scenes each):")
    for p in pairs:
        print(f"  {p['pair']:18s} own {p['own']:.2f}  other {p['other']:.2f}")
    path = write_result("gradcam_scenes", {
        "settings": {"scenes per seed": args.scenes, "objects per scene": args.objects,
                     "seeds": args.seeds, "layer": layer, "class": "each object's class",
                     "hit": "the map's peak (at its own resolution) inside the object's mask",
                     "chance": "the explained object's mean share of the image",
                     "options": OPTIONS, "scenes per pair": args.pairs,
                     "rule 'tells apart'": f"own >= {classmaps.DISCRIMINATIVE:g} x other and "
                                           f">= {classmaps.DISCRIMINATIVE:g} x chance"},
        "load average before/after (1 min)": [round(load_before, 1), round(load_after, 1)],
        "summary": summary,
        "rows": rows,
        "gradcam per pair": pairs,
    })
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
