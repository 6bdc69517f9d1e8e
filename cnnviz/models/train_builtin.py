"""Train the built-in ``shapes_cnn`` and save its weights (run once, by hand).

    python -m cnnviz.models.train_builtin

Fixed seeds, synthetic ``make_shapes`` train/validation/test sets (the test set
uses a seed the training never saw), Adam on a from-logits cross-entropy. Writes
``cnnviz/models/weights/shapes_cnn.weights.h5`` and ``shapes_cnn.json`` with the
measured test accuracy, how well the class activation map points at the object,
the settings, seeds, timing and date.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import time
from dataclasses import dataclass

import numpy as np

TRAIN_SEED, VAL_SEED, TEST_SEED, INIT_SEED = 1, 2, 3, 0


def cam_localisation(model, images, masks, labels) -> tuple[float, float, float]:
    """How well the class activation map of the true class finds the object.

    With global average pooling straight after the last conv, the class score
    is a weighted sum of the last feature maps (CAM; Grad-CAM's channel
    weights are the same up to a constant). Returns (pointing, energy, area):
    the fraction of images whose CAM peak lies on the object (the 4x4 input
    patch under the peak 16x16 cell touches the mask), the mean share of the
    positive CAM that falls on the object, and the mean share of the image the
    object covers (the energy a map blind to the object would get).
    """
    from cnnviz import probe
    from cnnviz.images import enlarge

    features = probe.feature_model(model, ["block3_conv2"])
    fmap = np.asarray(probe.run(features, images)[0])  # (n, 16, 16, c)
    weights = model.get_layer("logits").get_weights()[0]  # (c, classes)
    cams = np.einsum("nhwc,cn->nhw", fmap, weights[:, labels])
    n, h, w = cams.shape
    scale = images.shape[1] // h
    flat = cams.reshape(n, -1).argmax(axis=1)
    rows, cols = np.divmod(flat, w)
    cell_masks = masks.reshape(n, h, scale, w, scale).any(axis=(2, 4))
    pointing = float(cell_masks[np.arange(n), rows, cols].mean())
    positive = np.maximum(cams, 0)
    upsampled = np.stack([enlarge(cam, scale) for cam in positive])
    energy = (upsampled * masks).sum(axis=(1, 2)) / (upsampled.sum(axis=(1, 2)) + 1e-8)
    return pointing, float(energy.mean()), float(masks.mean())


def arguments(argv, description: str, lr: float) -> argparse.Namespace:
    """The command line every shapes-training script takes (``lr``: its default rate)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--train", type=int, default=6000, help="training images")
    parser.add_argument("--val", type=int, default=500)
    parser.add_argument("--test", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=lr)
    parser.add_argument("--out", default=None,
                        help="weights path ending in .weights.h5 (default: the shipped one); "
                        "the JSON goes next to it")
    return parser.parse_args(argv)


@dataclass
class ShapesRun:
    """One training on the shapes splits: the data, the fit and the test, timed."""

    test: object  # the test split (images, labels, masks)
    history: dict
    test_loss: float
    test_accuracy: float
    data_seconds: float
    train_seconds: float
    train_cpu_seconds: float


def train_on_shapes(build, args: argparse.Namespace) -> tuple[object, ShapesRun]:
    """Seed everything, make the train/validation/test splits (the test split from a seed
    the training never sees), then fit ``build(seed=INIT_SEED)`` with Adam on a
    cosine-decayed rate and a from-logits cross-entropy. Returns (model, run)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    from cnnviz.data import SOURCE_CLASSES, make_shapes

    keras.utils.set_random_seed(INIT_SEED)
    start = time.perf_counter()
    train = make_shapes(args.train, seed=TRAIN_SEED, classes=SOURCE_CLASSES)
    val = make_shapes(args.val, seed=VAL_SEED, classes=SOURCE_CLASSES)
    test = make_shapes(args.test, seed=TEST_SEED, classes=SOURCE_CLASSES)
    data_seconds = time.perf_counter() - start
    print(f"data: {args.train}/{args.val}/{args.test} images in {data_seconds:.1f} s", flush=True)

    model = build(seed=INIT_SEED)
    steps = args.epochs * int(np.ceil(args.train / args.batch_size))
    schedule = keras.optimizers.schedules.CosineDecay(args.lr, decay_steps=steps, alpha=0.05)
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    start, cpu_start = time.perf_counter(), time.process_time()
    history = model.fit(
        train.images, train.labels, validation_data=(val.images, val.labels),
        epochs=args.epochs, batch_size=args.batch_size, shuffle=True, verbose=2,
    )
    train_seconds = time.perf_counter() - start
    train_cpu_seconds = time.process_time() - cpu_start
    test_loss, test_accuracy = model.evaluate(test.images, test.labels, verbose=0)
    return model, ShapesRun(test, history.history, float(test_loss), float(test_accuracy),
                            data_seconds, train_seconds, train_cpu_seconds)


def save(weights_of, out: str, args: argparse.Namespace, run: ShapesRun, *, name: str,
         measured: dict, architecture: dict) -> dict:
    """Write ``weights_of``'s weights to ``out`` and, next to it, the JSON record: the
    measured test accuracy (plus ``measured``), the per-epoch curves, the settings (plus
    ``architecture``), seeds, timing, date and machine. Returns the record."""
    import keras

    from cnnviz.data import SOURCE_CLASSES

    os.makedirs(os.path.dirname(out), exist_ok=True)
    weights_of.save_weights(out)
    info = {
        "model": name,
        "classes": list(SOURCE_CLASSES),
        "test_accuracy": round(run.test_accuracy, 4),
        "test_loss": round(run.test_loss, 4),
        "test_size": args.test,
        **measured,
        "val_accuracy_per_epoch": [round(float(a), 4) for a in run.history["val_accuracy"]],
        "train_accuracy_per_epoch": [round(float(a), 4) for a in run.history["accuracy"]],
        "settings": {
            "train_images": args.train, "val_images": args.val, "epochs": args.epochs,
            "batch_size": args.batch_size, "optimizer": "Adam",
            "learning_rate": f"{args.lr} cosine-decayed to {0.05 * args.lr:g}",
            "loss": "sparse categorical cross-entropy from logits",
            **architecture,
        },
        "seeds": {"train": TRAIN_SEED, "val": VAL_SEED, "test": TEST_SEED, "init": INIT_SEED},
        "train_seconds": round(run.train_seconds, 1),
        "train_cpu_seconds": round(run.train_cpu_seconds, 1),
        "data_seconds": round(run.data_seconds, 1),
        "date": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs (shared), "
                   f"keras {keras.__version__}",
    }
    info_path = out.removesuffix(".weights.h5") + ".json"
    with open(info_path, "w") as f:
        f.write(json.dumps(info, indent=2) + "\n")
    print(json.dumps(info, indent=2))
    return info


def main(argv=None) -> dict:
    args = arguments(argv, __doc__.splitlines()[0], lr=2e-3)
    from cnnviz.models import builtin

    model, run = train_on_shapes(builtin.build_shapes_cnn, args)
    test = run.test
    pointing, energy, area = cam_localisation(model, test.images, test.masks, test.labels)
    print(f"test accuracy {run.test_accuracy:.4f} (loss {run.test_loss:.3f}) on {args.test} "
          f"fresh images; CAM peak on the object for {pointing:.1%}, {energy:.1%} of the CAM "
          f"on the object (which covers {area:.1%} of the image); training "
          f"{run.train_seconds:.0f} s", flush=True)
    return save(model, args.out or str(builtin.WEIGHTS_PATH), args, run, name=builtin.NAME,
                measured={"cam_pointing_accuracy": round(pointing, 4),
                          "cam_energy_on_object": round(energy, 4),
                          "object_area_fraction": round(area, 4)},
                architecture={"filters": list(builtin.FILTERS), "dropout": builtin.DROPOUT,
                              "params": int(model.count_params())})


if __name__ == "__main__":
    main()
