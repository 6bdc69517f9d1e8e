"""Train the small inception network ``shapes_inception`` and save its weights (run once).

    python -m cnnviz.models.train_inception

The same recipe and seeds as ``train_builtin`` (synthetic ``make_shapes``
train/validation/test sets, the test set from a seed the training never saw; Adam
with a cosine-decayed learning rate on a from-logits cross-entropy). Writes
``cnnviz/models/weights/shapes_inception.weights.h5`` and ``shapes_inception.json``
with the measured test accuracy, the settings, seeds, timing, date and machine.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import time

import numpy as np

from cnnviz.models.train_builtin import INIT_SEED, TEST_SEED, TRAIN_SEED, VAL_SEED


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=6000, help="training images")
    parser.add_argument("--val", type=int, default=500)
    parser.add_argument("--test", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--out", default=None,
                        help="weights path ending in .weights.h5 (default: the shipped one); "
                        "the JSON goes next to it")
    args = parser.parse_args(argv)

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    from cnnviz import architecture
    from cnnviz.data import SOURCE_CLASSES, make_shapes
    from cnnviz.models import inception

    keras.utils.set_random_seed(INIT_SEED)
    start = time.perf_counter()
    train = make_shapes(args.train, seed=TRAIN_SEED, classes=SOURCE_CLASSES)
    val = make_shapes(args.val, seed=VAL_SEED, classes=SOURCE_CLASSES)
    test = make_shapes(args.test, seed=TEST_SEED, classes=SOURCE_CLASSES)
    data_seconds = time.perf_counter() - start
    print(f"data: {args.train}/{args.val}/{args.test} images in {data_seconds:.1f} s", flush=True)

    model = inception.build_shapes_inception(seed=INIT_SEED)
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
    print(f"test accuracy {test_accuracy:.4f} (loss {test_loss:.3f}) on {args.test} fresh "
          f"images; training {train_seconds:.0f} s", flush=True)

    out = args.out or str(inception.WEIGHTS_PATH)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    shipped = inception.build_shapes_inception()  # uncompiled: no optimizer state in the file
    shipped.set_weights(model.get_weights())
    shipped.save_weights(out)
    info = {
        "model": inception.NAME,
        "classes": list(SOURCE_CLASSES),
        "test_accuracy": round(float(test_accuracy), 4),
        "test_loss": round(float(test_loss), 4),
        "test_size": args.test,
        "check_accuracy": round(inception.check_accuracy(model), 4),
        "check_set": f"make_shapes({inception.CHECK_SIZE}, seed={inception.CHECK_SEED})",
        "val_accuracy_per_epoch": [round(float(a), 4) for a in history.history["val_accuracy"]],
        "train_accuracy_per_epoch": [round(float(a), 4) for a in history.history["accuracy"]],
        "settings": {
            "train_images": args.train, "val_images": args.val, "epochs": args.epochs,
            "batch_size": args.batch_size, "optimizer": "Adam",
            "learning_rate": f"{args.lr} cosine-decayed to {0.05 * args.lr:g}",
            "loss": "sparse categorical cross-entropy from logits",
            "layers": architecture.spec_to_dicts(inception.SPEC),
            "params": int(model.count_params()),
        },
        "seeds": {"train": TRAIN_SEED, "val": VAL_SEED, "test": TEST_SEED, "init": INIT_SEED},
        "train_seconds": round(train_seconds, 1),
        "train_cpu_seconds": round(train_cpu_seconds, 1),
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
