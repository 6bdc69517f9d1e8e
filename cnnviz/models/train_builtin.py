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


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=6000, help="training images")
    parser.add_argument("--val", type=int, default=500)
    parser.add_argument("--test", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--out", default=None,
                        help="weights path ending in .weights.h5 (default: the shipped one); "
                        "the JSON goes next to it")
    args = parser.parse_args(argv)

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    from cnnviz.data import SOURCE_CLASSES, make_shapes
    from cnnviz.models import builtin

    keras.utils.set_random_seed(INIT_SEED)
    start = time.perf_counter()
    train = make_shapes(args.train, seed=TRAIN_SEED, classes=SOURCE_CLASSES)
    val = make_shapes(args.val, seed=VAL_SEED, classes=SOURCE_CLASSES)
    test = make_shapes(args.test, seed=TEST_SEED, classes=SOURCE_CLASSES)
    data_seconds = time.perf_counter() - start
    print(f"data: {args.train}/{args.val}/{args.test} images in {data_seconds:.1f} s", flush=True)

    model = builtin.build_shapes_cnn(seed=INIT_SEED)
    steps = args.epochs * int(np.ceil(args.train / args.batch_size))
    schedule = keras.optimizers.schedules.CosineDecay(args.lr, decay_steps=steps, alpha=0.05)
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    start = time.perf_counter()
    history = model.fit(
        train.images, train.labels, validation_data=(val.images, val.labels),
        epochs=args.epochs, batch_size=args.batch_size, shuffle=True, verbose=2,
    )
    train_seconds = time.perf_counter() - start
    test_loss, test_accuracy = model.evaluate(test.images, test.labels, verbose=0)
    pointing, energy, area = cam_localisation(model, test.images, test.masks, test.labels)
    print(f"test accuracy {test_accuracy:.4f} (loss {test_loss:.3f}) on {args.test} fresh "
          f"images; CAM peak on the object for {pointing:.1%}, {energy:.1%} of the CAM on "
          f"the object (which covers {area:.1%} of the image); training {train_seconds:.0f} s",
          flush=True)

    out = args.out or str(builtin.WEIGHTS_PATH)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    model.save_weights(out)
    info = {
        "model": builtin.NAME,
        "classes": list(SOURCE_CLASSES),
        "test_accuracy": round(float(test_accuracy), 4),
        "test_loss": round(float(test_loss), 4),
        "test_size": args.test,
        "cam_pointing_accuracy": round(pointing, 4),
        "cam_energy_on_object": round(energy, 4),
        "object_area_fraction": round(area, 4),
        "val_accuracy_per_epoch": [round(float(a), 4) for a in history.history["val_accuracy"]],
        "train_accuracy_per_epoch": [round(float(a), 4) for a in history.history["accuracy"]],
        "settings": {
            "train_images": args.train, "val_images": args.val, "epochs": args.epochs,
            "batch_size": args.batch_size, "optimizer": "Adam",
            "learning_rate": f"{args.lr} cosine-decayed to {0.05 * args.lr:g}",
            "loss": "sparse categorical cross-entropy from logits",
            "filters": list(builtin.FILTERS), "dropout": builtin.DROPOUT,
            "params": int(model.count_params()),
        },
        "seeds": {"train": TRAIN_SEED, "val": VAL_SEED, "test": TEST_SEED, "init": INIT_SEED},
        "train_seconds": round(train_seconds, 1),
        "data_seconds": round(data_seconds, 1),
        "date": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs (shared), "
                   f"keras {keras.__version__}",
    }
    info_path = out.removesuffix(".weights.h5") + ".json"
    with open(info_path, "w") as f:
        f.write(json.dumps(info, indent=2) + "\n")
    print(json.dumps(info, indent=2))
    return info


if __name__ == "__main__":
    main()
