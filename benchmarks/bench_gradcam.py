"""How fast is cnnviz.cam.gradcam compared with the textbook way and with the floor?

In one run, for one image, times
  (a) Grad-CAM structured like the Keras example "Grad-CAM class activation
      visualization": the gradient model is rebuilt on every call and run eagerly;
  (b) cnnviz.cam.gradcam, warm (cached probe, compiled tf.function);
  (c) the floor: one plain forward pass of the model plus the backward pass of the
      class logit to the input image, compiled in a tf.function;
  (d) the layer floor: forward + backward of the logit only down to the target
      layer, compiled (the least Grad-CAM must compute; (b)/(d) is the overhead);
checks that (a) and (b) give the same map (to 1e-5), prints ratios and writes
benchmarks/results/gradcam.json. Models: MobileNetV2 (weights=None, 224x224) and
the built-in shapes_cnn (64x64).

With ``--shapes N`` (default 200; 0 skips it) it also scores every attribution
method on N fresh make_shapes images with the trained built-in model: pointing
game, energy inside the mask, deletion/insertion AUC (16 steps), and a random map.

    .venv/bin/python benchmarks/bench_gradcam.py [--repeats 20] [--shapes 200]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from common import write_result  # noqa: E402


def keras_example_gradcam(model, image, layer_name):
    """The Keras example's structure: build the gradient model, run it eagerly,
    pool the gradients, weight, ReLU, normalise (by max + 1e-30, as cnnviz does)."""
    import keras
    import tensorflow as tf

    grad_model = keras.Model(model.inputs,
                             [model.get_layer(layer_name).output, model.outputs[0]])
    with tf.GradientTape() as tape:
        conv_out, preds = grad_model(image)
        top = int(tf.argmax(preds[0]))
        score = preds[:, top]
    grads = tape.gradient(score, conv_out)
    pooled = tf.reduce_mean(grads, axis=(0, 1, 2))
    heatmap = tf.squeeze(conv_out[0] @ pooled[..., tf.newaxis])
    heatmap = tf.maximum(heatmap, 0)
    heatmap = tf.cast(heatmap, tf.float64)
    return (heatmap / (tf.reduce_max(heatmap) + 1e-30)).numpy()


def make_floor(model):
    """Forward + backward (class logit -> input) in one compiled function."""
    import tensorflow as tf

    @tf.function(input_signature=[tf.TensorSpec([None, *model.inputs[0].shape[1:]])])
    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            logits = model(x, training=False)
            score = tf.reduce_max(logits, axis=-1)
        return tape.gradient(score, x)

    return lambda image: step(tf.convert_to_tensor(image)).numpy()


def make_layer_floor(model, layer_name):
    """Forward + backward (class logit -> target layer only), compiled: what (b) must
    compute at least; (b) / this is cnnviz's own overhead."""
    import keras
    import tensorflow as tf

    sub = keras.Model(model.inputs[0], [model.get_layer(layer_name).output, model.outputs[0]])

    @tf.function(input_signature=[tf.TensorSpec([None, *model.inputs[0].shape[1:]])])
    def step(x):
        with tf.GradientTape() as tape:
            acts, logits = sub(x, training=False)
            score = tf.reduce_max(logits, axis=-1)
        return acts, tape.gradient(score, acts)

    return lambda image: [t.numpy() for t in step(tf.convert_to_tensor(image))]


def timed(fns: dict, repeats: int) -> dict:
    """Median wall time in ms of each function after one warm-up call each. The
    functions take turns in every round, so load from other processes on a shared
    machine hits all of them alike."""
    for fn in fns.values():
        fn()
    times = {key: [] for key in fns}
    for _ in range(repeats):
        for key, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[key].append(time.perf_counter() - start)
    return {key: 1000 * statistics.median(t) for key, t in times.items()}


def bench(name, model, image, repeats):
    from cnnviz import cam

    layer = cam.default_layer(model)
    floor = make_floor(model)
    a_map = keras_example_gradcam(model, image, layer)
    b_map = cam.gradcam(model, image, layer=layer)[0]
    diff = float(np.abs(a_map - b_map).max())
    assert b_map.max() > 0.99, "degenerate map: the comparison would be meaningless"
    layer_floor = make_layer_floor(model, layer)
    t = timed({"a": lambda: keras_example_gradcam(model, image, layer),
               "b": lambda: cam.gradcam(model, image, layer=layer),
               "c": lambda: floor(image),
               "d": lambda: layer_floor(image)}, repeats)
    ta, tb, tc, td = t["a"], t["b"], t["c"], t["d"]
    return {
        "model": name, "layer": layer, "input": list(image.shape),
        "keras_example_ms": round(ta, 2), "cnnviz_gradcam_ms": round(tb, 2),
        "floor_forward_backward_ms": round(tc, 2),
        "speedup_vs_keras_example": round(ta / tb, 2),
        "ratio_to_floor": round(tb / tc, 3),
        "layer_floor_ms": round(td, 2), "ratio_to_layer_floor": round(tb / td, 3),
        "max_abs_diff_a_b": diff, "agree_1e-5": diff <= 1e-5,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--shapes", type=int, default=200)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()

    import keras
    import tensorflow as tf

    from cnnviz.models import builtin

    rng = np.random.default_rng(0)
    rows = []
    keras.utils.set_random_seed(0)
    mobilenet = keras.applications.MobileNetV2(weights=None, classifier_activation=None)
    rows.append(bench("mobilenet_v2 (weights=None)", mobilenet,
                      rng.uniform(-1, 1, (1, 224, 224, 3)).astype(np.float32), args.repeats))
    try:
        shapes = builtin.load_shapes_cnn()
        shapes_name = "shapes_cnn (trained)" if builtin.WEIGHTS_PATH.is_file() else "shapes_cnn"
    except (ValueError, OSError):  # weights file from another architecture version
        shapes, shapes_name = builtin.build_shapes_cnn(), "shapes_cnn (random weights)"
    from cnnviz.data import make_shapes

    rows.append(bench(shapes_name, shapes, make_shapes(1, seed=7).images, args.repeats))

    print(f"Grad-CAM, one image, median of {args.repeats} runs "
          f"(TensorFlow {tf.__version__}, Keras {keras.__version__})")
    print(f"{'model':34s} {'(a) example':>12s} {'(b) cnnviz':>11s} {'(c) floor':>10s} "
          f"{'(d) layer':>10s} {'a/b':>6s} {'b/c':>6s} {'b/d':>6s} {'max|a-b|':>9s}")
    for r in rows:
        print(f"{r['model']:34s} {r['keras_example_ms']:10.1f}ms {r['cnnviz_gradcam_ms']:9.1f}ms "
              f"{r['floor_forward_backward_ms']:8.1f}ms {r['layer_floor_ms']:8.1f}ms "
              f"{r['speedup_vs_keras_example']:6.1f} {r['ratio_to_floor']:6.2f} "
              f"{r['ratio_to_layer_floor']:6.2f} {r['max_abs_diff_a_b']:9.1e}")
    localisation = []
    if args.shapes and shapes_name == "shapes_cnn (trained)":
        from cnnviz import cam, evaluate

        options = {"scorecam": {"top_k": 32}, "smoothgrad": {"samples": 16},
                   "integrated_gradients": {"steps": 32}, "occlusion": {}}
        scores = evaluate.localisation_scores(
            shapes, make_shapes(args.shapes, seed=args.seed),
            (*cam.METHODS, evaluate.RANDOM), options=options, curve_steps=16, seed=0)
        print(f"\nOn {args.shapes} make_shapes images (seed {args.seed}), true class, "
              f"layer {cam.default_layer(shapes)}; chance = {scores[0].chance:.3f}")
        print(f"{'method':22s} {'pointing':>9s} {'energy':>7s} {'del AUC':>8s} "
              f"{'ins AUC':>8s} {'seconds':>8s}")
        for sc in scores:
            print(f"{sc.method:22s} {sc.pointing:9.3f} {sc.energy:7.3f} {sc.deletion_auc:8.3f} "
                  f"{sc.insertion_auc:8.3f} {sc.seconds:8.1f}")
            localisation.append({k: (round(v, 4) if isinstance(v, float) else v)
                                 for k, v in sc.__dict__.items()})
        localisation = {"images": args.shapes, "seed": args.seed, "options": options,
                        "curve_steps": 16, "class": "true label",
                        "layer": cam.default_layer(shapes), "scores": localisation}
    path = write_result("gradcam", {
        "settings": {"repeats": args.repeats, "batch": 1,
                     "statistic": "median, the four variants interleaved per round",
                     "floor": "forward + backward of the top logit to the input, tf.function",
                     "tensorflow": tf.__version__, "keras": keras.__version__},
        "goal": "(b) within 1.3x of (c); (b) at least 8x faster than (a); |a-b| <= 1e-5",
        "rows": rows,
        "shapes_localisation": localisation,
    })
    print(f"wrote {path}")
    return 0 if all(r["agree_1e-5"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
