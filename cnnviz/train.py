"""Training experiments the student runs live: augmentation on/off, transfer learning.

Pure library (no Streamlit): the page passes in callbacks. ``callbacks(label,
epochs)`` returns extra Keras callbacks for one training run (a progress bar);
``on_epoch(label, history)`` receives the history so far after every epoch, so
that a page can keep the epochs already done if the run is interrupted;
``should_stop()`` is polled after every batch and epoch and ends training early.

Every result carries the settings and seeds that produced it. Keras and
TensorFlow are imported inside the functions: importing this module is cheap.
"""

from __future__ import annotations

import dataclasses
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from cnnviz.errors import DatasetError, ModelError
from cnnviz.images import resize_batch

Callbacks = Callable[[str, int], list] | None
OnEpoch = Callable[[str, dict], None] | None
ShouldStop = Callable[[], bool] | None

METRICS = ("loss", "accuracy", "val_loss", "val_accuracy")


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Split:
    """A small training set and a validation set, as the model sees them."""

    x_train: np.ndarray  # float32 (n, s, s, 3) in [0, 1]
    y_train: np.ndarray  # int64
    x_val: np.ndarray
    y_val: np.ndarray
    class_names: tuple[str, ...]
    description: str

    @property
    def n_classes(self) -> int:
        return len(self.class_names)


def split_per_class(images, labels, class_names, *, n_train: int, n_val: int, size: int,
                    seed: int = 0, description: str = "") -> Split:
    """Take ``n_train`` training and up to ``n_val`` validation images of every class."""
    images = np.asarray(images)
    labels = np.asarray(labels, dtype=np.int64)
    if images.dtype == np.uint8:
        images = images.astype(np.float32) / 255.0
    rng = np.random.default_rng(seed)
    train_idx, val_idx = [], []
    for c in range(len(class_names)):
        idx = rng.permutation(np.flatnonzero(labels == c))
        if len(idx) < n_train + 1:
            raise DatasetError(
                f"Class {class_names[c]!r} has {len(idx)} images; this experiment needs at "
                f"least {n_train + 1} ({n_train} to train on and some to validate).")
        train_idx.extend(idx[:n_train])
        val_idx.extend(idx[n_train:n_train + n_val])
    train_idx = rng.permutation(train_idx)
    val_idx = rng.permutation(val_idx)
    return Split(resize_batch(images[train_idx], size), labels[train_idx],
                 resize_batch(images[val_idx], size), labels[val_idx],
                 tuple(class_names), description)


def shapes_split(*, classes, n_train: int, n_val: int, size: int = 64, seed: int = 0) -> Split:
    """Synthetic shapes: training and validation images drawn with different seeds."""
    from cnnviz.data import make_shapes

    classes = tuple(classes)
    train = make_shapes(n_train * len(classes), size=size, seed=seed, classes=classes)
    val = make_shapes(n_val * len(classes), size=size, seed=seed + 10_000, classes=classes)
    return Split(train.images, train.labels, val.images, val.labels, classes,
                 f"synthetic shapes ({', '.join(classes)})")


#: Datasets the experiments can use: key -> title.
DATASETS = {
    "shapes": "Shapes: circle, square, triangle (offline)",
    "shapes5": "Shapes: the five classes of the built-in model (offline)",
    "new_shapes": "New shapes: ring, hexagon, crescent (offline)",
    "textures": "Textures: brick, grass, gravel (offline)",
    "faces": "Faces vs non-faces, LFW subset (offline)",
    "mnist": "MNIST digits (download)",
    "fashion_mnist": "Fashion-MNIST (download)",
    "cifar10": "CIFAR-10 (download)",
    "cats_vs_dogs": "Cats vs dogs (download)",
}


def _from_parts(train, val, description: str, size: int) -> Split:
    return Split(resize_batch(train.images, size), train.labels, resize_batch(val.images, size),
                 val.labels, tuple(train.class_names), description)


def load_split(name: str, *, n_train: int, n_val: int, size: int = 64, seed: int = 0) -> Split:
    """A small per-class subset of a named dataset, resized to ``size``.

    Validation images never overlap the training ones: shapes are drawn with
    another seed, textures cut from another part of each photo, Keras datasets
    taken from their official test part.
    """
    from cnnviz import data

    shape_classes = {"shapes": data.SOURCE_CLASSES[:3], "shapes5": data.SOURCE_CLASSES,
                     "new_shapes": data.NEW_SHAPE_CLASSES}
    if name in shape_classes:
        return shapes_split(classes=shape_classes[name], n_train=n_train, n_val=n_val,
                            size=size, seed=seed)
    if name not in DATASETS:
        raise DatasetError(f"Unknown dataset {name!r}; choose from {', '.join(DATASETS)}.")
    title = DATASETS[name]
    if name == "textures":
        return _from_parts(data.load_textures(n_train, size=size, seed=seed, part="train"),
                           data.load_textures(n_val, size=size, seed=seed + 1, part="test"),
                           title, size)
    if name == "faces":
        faces = data.load_faces(size=size, seed=seed)
        return split_per_class(faces.images, faces.labels, faces.class_names, n_train=n_train,
                               n_val=n_val, size=size, seed=seed, description=title)
    if name == "cats_vs_dogs":
        return _from_parts(
            data.load_cats_vs_dogs(size=size, subset="train", max_per_class=n_train, seed=seed),
            data.load_cats_vs_dogs(size=size, subset="validation", max_per_class=n_val,
                                   seed=seed), title, size)
    loaded = data.load_keras_dataset(name, n_train=40 * n_train, n_test=20 * n_val, seed=seed)
    train_part = loaded.subset(~loaded.test_mask)
    val_part = loaded.subset(loaded.test_mask)
    train = split_per_class(train_part.images, train_part.labels, loaded.class_names,
                            n_train=n_train, n_val=0, size=size, seed=seed)
    val = split_per_class(val_part.images, val_part.labels, loaded.class_names,
                          n_train=0, n_val=n_val, size=size, seed=seed)
    return Split(train.x_train, train.y_train, val.x_val, val.y_val, loaded.class_names, title)


def user_split(labeled, *, n_train: int, n_val: int, size: int = 64, seed: int = 0) -> Split:
    """The student's own images (a ``LabeledImages``), split per class."""
    return split_per_class(labeled.images, labeled.labels, labeled.class_names,
                           n_train=n_train, n_val=n_val, size=size, seed=seed,
                           description="your images")


def labeled_from_photos(photos: dict[str, list], *, size: int = 64):
    """Photos collected per class (e.g. with a camera) as a ``LabeledImages``."""
    from cnnviz.augment import thumbnail
    from cnnviz.data import LabeledImages

    names = tuple(name for name, images in photos.items() if len(images))
    if len(names) < 2:
        raise DatasetError("Take photos of at least two classes first.")
    images = [thumbnail(image, size) for name in names for image in photos[name]]
    labels = [i for i, name in enumerate(names) for _ in photos[name]]
    return LabeledImages(np.stack(images).astype(np.float32) / 255.0,
                         np.array(labels, dtype=np.int64), names, description="your photos")


# --------------------------------------------------------------------------- fitting


def _callback_classes():
    """Keras callback classes, defined once on first use (keeps the import cheap)."""
    global _CALLBACKS
    if _CALLBACKS is None:
        import keras

        class EpochRecorder(keras.callbacks.Callback):
            """Append each epoch's metrics to ``history`` and report them."""

            def __init__(self, history, label, on_epoch):
                super().__init__()
                self.history, self.label, self.on_epoch = history, label, on_epoch

            def on_epoch_end(self, epoch, logs=None):
                logs = logs or {}
                for key in METRICS:
                    self.history.setdefault(key, []).append(float(logs.get(key, np.nan)))
                if self.on_epoch is not None:
                    self.on_epoch(self.label, {k: list(v) for k, v in self.history.items()})

        class StopFlag(keras.callbacks.Callback):
            """End training at the next batch once ``should_stop()`` says so."""

            def __init__(self, should_stop):
                super().__init__()
                self.should_stop = should_stop
                self.stopped = False

            def on_train_batch_end(self, batch, logs=None):
                if self.should_stop():
                    self.stopped = True
                    self.model.stop_training = True

            on_epoch_end = on_train_batch_end

        _CALLBACKS = (EpochRecorder, StopFlag)
    return _CALLBACKS


_CALLBACKS = None


def compile_model(model, learning_rate: float) -> None:
    """Adam + cross-entropy on logits. Call again after every change of ``trainable``."""
    import keras

    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
        jit_compile=False,
    )


def fit(model, split: Split, *, epochs: int, batch_size: int, label: str, history: dict,
        initial_epoch: int = 0, callbacks: Callbacks = None, on_epoch: OnEpoch = None,
        should_stop: ShouldStop = None) -> bool:
    """Train ``epochs`` more epochs, appending to ``history``; True if stopped early."""
    recorder_cls, stop_cls = _callback_classes()
    stop = stop_cls(should_stop) if should_stop is not None else None
    extra = list(callbacks(label, epochs)) if callbacks is not None else []
    model.fit(
        split.x_train, split.y_train, validation_data=(split.x_val, split.y_val),
        epochs=initial_epoch + epochs, initial_epoch=initial_epoch, batch_size=batch_size,
        shuffle=True, verbose=0,
        callbacks=[recorder_cls(history, label, on_epoch), *([stop] if stop else []), *extra],
    )
    return bool(stop and stop.stopped)


def evaluate(model, x, y, batch_size: int = 64) -> tuple[float, float]:
    """(loss, accuracy) of ``model`` on (x, y), computed directly (no ``predict``)."""
    from cnnviz.models import log_probabilities

    logits = np.concatenate([np.asarray(model(x[i:i + batch_size], training=False))
                             for i in range(0, len(x), batch_size)])
    log_p = log_probabilities(logits, np.float64)
    loss = float(-log_p[np.arange(len(y)), y].mean())
    return loss, float((logits.argmax(axis=1) == y).mean())


# --------------------------------------------------------------------------- augmentation


@dataclass(frozen=True)
class AugmentSettings:
    """Everything that decides an augmentation experiment (its cache key)."""

    dataset: str = "shapes"
    n_train: int = 40  # per class
    n_val: int = 50  # per class
    size: int = 64
    epochs: int = 40
    batch_size: int = 16
    learning_rate: float = 1e-3
    seed: int = 0

    def key(self, spec) -> tuple:
        from cnnviz.augment import normalize_spec

        return (*asdict(self).values(), repr(normalize_spec(spec)))


@dataclass
class Run:
    """One training run: its per-epoch history and what it took."""

    label: str
    history: dict = field(default_factory=dict)
    seconds: float = 0.0
    stopped: bool = False

    @property
    def epochs(self) -> int:
        return len(self.history.get("loss", []))

    def last(self, metric: str) -> float:
        values = self.history.get(metric) or [np.nan]
        return float(values[-1])

    @property
    def gap(self) -> float:
        """Final training accuracy minus validation accuracy: how much it overfits."""
        return self.last("accuracy") - self.last("val_accuracy")


@dataclass
class AugmentResult:
    settings: AugmentSettings
    spec: list
    description: str
    runs: dict[str, Run]
    seconds: float = 0.0

    @property
    def complete(self) -> bool:
        return len(self.runs) == 2 and not any(r.stopped for r in self.runs.values())


def small_cnn(input_shape, n_classes: int, *, augmentation_spec=None, seed: int = 0):
    """A small CNN that overfits a small dataset: three conv blocks and a wide dense layer.

    The augmentation layers (if any) are the first layers of the model, as in the
    keras-io examples: they act while ``fit`` trains and are the identity when the
    model validates or predicts.
    """
    import keras
    from keras import layers

    from cnnviz.augment import build_pipeline, normalize_spec

    init = keras.initializers.HeNormal(seed=seed)
    inputs = keras.Input(shape=tuple(input_shape), name="image")
    x = inputs
    if normalize_spec(augmentation_spec):
        for layer in build_pipeline(augmentation_spec, seed=seed).layers:
            x = layer(x)
    for block, filters in enumerate((16, 32, 64), start=1):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu",
                          kernel_initializer=init, name=f"block{block}_conv")(x)
        x = layers.MaxPooling2D(2, name=f"block{block}_pool")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(64, activation="relu", kernel_initializer=init, name="dense")(x)
    outputs = layers.Dense(n_classes, kernel_initializer=keras.initializers.GlorotUniform(seed),
                           name="logits")(x)
    return keras.Model(inputs, outputs, name="small_cnn")


def augmentation_experiment(split: Split, spec, settings: AugmentSettings, *,
                            callbacks: Callbacks = None, on_epoch: OnEpoch = None,
                            should_stop: ShouldStop = None) -> AugmentResult:
    """Train the same CNN, same seed, same data, without and then with augmentation."""
    import keras

    from cnnviz.augment import describe

    result = AugmentResult(settings, spec, split.description, runs={})
    start = time.perf_counter()
    for label, aug in (("without augmentation", None), ("with augmentation", spec)):
        if should_stop is not None and should_stop():
            break
        keras.utils.set_random_seed(settings.seed)
        model = small_cnn(split.x_train.shape[1:], split.n_classes, augmentation_spec=aug,
                          seed=settings.seed)
        compile_model(model, settings.learning_rate)
        run = Run(label)
        t0 = time.perf_counter()
        run.stopped = fit(model, split, epochs=settings.epochs, batch_size=settings.batch_size,
                          label=label, history=run.history, callbacks=callbacks,
                          on_epoch=on_epoch, should_stop=should_stop)
        run.seconds = time.perf_counter() - t0
        result.runs[label] = run
        if run.stopped:
            break
    result.seconds = time.perf_counter() - start
    result.description = f"{split.description}; augmentation: {describe(spec)}"
    return result


# --------------------------------------------------------------------------- transfer


HEADS = {
    "linear": "Global average pooling → Dense (logits)",
    "dropout": "Global average pooling → Dropout 0.3 → Dense (logits)",
    "hidden": "Global average pooling → Dense 64 ReLU → Dropout 0.3 → Dense (logits)",
}

RECIPES = {
    "standard": "Freeze → train head → fine-tune slowly",
    "no_freeze": "No freezing (all layers from the start)",
    "high_lr": "Freeze → train head → fine-tune FAST",
}
RECIPE_HELP = (
    "**Freeze → train head → fine-tune slowly**: the standard recipe. "
    "**No freezing**: the base and the new random head train together from the start, at "
    "the head's learning rate. **Fine-tune FAST**: the standard phases, but phase 3 uses a "
    "high learning rate. The last two show the pretrained features being damaged."
)


@dataclass(frozen=True)
class TransferSettings:
    """Everything that decides a transfer-learning run (its cache key)."""

    base: str = "shapes_cnn"
    target: str = "new_shapes"
    n_train: int = 8  # per class
    n_val: int = 50  # per class
    head: str = "linear"
    recipe: str = "standard"
    head_epochs: int = 15
    fine_tune_epochs: int = 10
    unfreeze: int = 2  # layers with weights, counted from the top of the base
    head_lr: float = 1e-2
    fine_tune_lr: float = 1e-4
    high_lr: float = 1e-2
    scratch_lr: float = 1e-3
    batch_size: int = 16
    seed: int = 0
    scratch: bool = True

    def key(self) -> tuple:
        return tuple(asdict(self).values())




def add_head(base, n_classes: int, *, head: str = "linear", seed: int = 0):
    """A new model: ``base`` up to its last feature maps, then a new classifier head.

    The model is built flat (no nested model), from the base's own layers, so the
    base's layers *are* this model's layers: freezing them here freezes them in
    the copy of the base this model was built from (never the shared one).
    """
    import keras
    from keras import layers

    from cnnviz import probe

    if head not in HEADS:
        raise ModelError(f"Unknown head {head!r}; choose from {', '.join(HEADS)}.")
    features = probe.symbolic_outputs(base, [probe.last_spatial_layer(base)])[0]
    x = layers.GlobalAveragePooling2D(name="head_pool")(features)
    if head == "hidden":
        x = layers.Dense(64, activation="relu", name="head_hidden",
                         kernel_initializer=keras.initializers.HeNormal(seed))(x)
    if head in ("dropout", "hidden"):
        x = layers.Dropout(0.3, seed=seed, name="head_dropout")(x)
    outputs = layers.Dense(n_classes, name="head_logits",
                           kernel_initializer=keras.initializers.GlorotUniform(seed))(x)
    return keras.Model(base.inputs[0], outputs, name=f"{base.name}_transfer")


def is_head(layer) -> bool:
    return layer.name.startswith("head_")


def block_of(layer) -> str:
    """Group a layer into a block for the parameter chart (block1, block_3, head…)."""
    if is_head(layer):
        return "head"
    match = re.match(r"^(block_?\d+|expanded_conv|conv\d*|stem)", layer.name, re.IGNORECASE)
    return match.group(1) if match else layer.name


def _count(weights) -> int:
    return int(sum(int(np.prod(w.shape)) for w in weights))


def parameter_counts(model) -> list[dict]:
    """Per block: trainable and frozen parameter counts, in model order."""
    blocks: OrderedDict[str, dict] = OrderedDict()
    for layer in model.layers:
        if not layer.weights:
            continue
        row = blocks.setdefault(block_of(layer), {"block": block_of(layer), "trainable": 0,
                                                  "frozen": 0})
        row["trainable"] += _count(layer.trainable_weights)
        row["frozen"] += _count(layer.non_trainable_weights)
    return list(blocks.values())


def freeze_base(model, *, unfreeze_top: int = 0) -> None:
    """Freeze every base layer except the top ``unfreeze_top`` layers with weights.

    BatchNormalization layers stay frozen in any case, which in Keras 3 also makes
    them run in inference mode: ``fit`` would otherwise update their moving mean
    and variance with the statistics of a few new images (keras #20285).
    """
    import keras

    base_layers = [layer for layer in model.layers if layer.weights and not is_head(layer)]
    weighted = [layer for layer in base_layers
                if not isinstance(layer, keras.layers.BatchNormalization)]
    thawed = set(id(layer) for layer in weighted[len(weighted) - unfreeze_top:]) \
        if unfreeze_top > 0 else set()
    for layer in base_layers:
        layer.trainable = id(layer) in thawed
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False
        if is_head(layer):
            layer.trainable = True


def unfreeze_all(model) -> None:
    """Everything trainable except BatchNorm (kept in inference mode)."""
    import keras

    for layer in model.layers:
        layer.trainable = not isinstance(layer, keras.layers.BatchNormalization)


def base_weights(model) -> dict[str, list[np.ndarray]]:
    """Copies of the weights of every base layer with a kernel (not the head, not
    BatchNorm, whose scale and shift stay frozen), by layer name."""
    return {layer.name: [np.array(w) for w in layer.get_weights()]
            for layer in model.layers
            if getattr(layer, "kernel", None) is not None and not is_head(layer)}


def weight_change(before: dict, after: dict) -> dict[str, float]:
    """Relative change ‖W_after − W_before‖ / ‖W_before‖ per base layer (kernels only)."""
    out = {}
    for name, weights in before.items():
        if not weights:
            continue
        w0, w1 = weights[0], after[name][0]
        out[name] = float(np.linalg.norm(w1 - w0) / (np.linalg.norm(w0) + 1e-12))
    return out


def batchnorm_state(model) -> dict[str, list[np.ndarray]]:
    """Moving mean and variance of every BatchNormalization layer."""
    import keras

    numpy = keras.ops.convert_to_numpy
    return {layer.name: [numpy(layer.moving_mean), numpy(layer.moving_variance)]
            for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)}


def batchnorm_change(before: dict, after: dict) -> float:
    """Largest absolute change of any BatchNorm moving statistic (0 = untouched)."""
    diffs = [float(np.abs(a - b).max()) for name in before
             for a, b in zip(before[name], after[name], strict=True)]
    return max(diffs, default=0.0)


@dataclass
class Phase:
    name: str
    start_epoch: int  # epochs before this phase
    epochs: int
    learning_rate: float
    counts: list[dict]  # parameter_counts at this phase
    number: int = 0  # 1, 2, 3 for the transfer phases; 0 for training from scratch

    @property
    def trainable(self) -> int:
        return sum(row["trainable"] for row in self.counts)

    @property
    def frozen(self) -> int:
        return sum(row["frozen"] for row in self.counts)


@dataclass
class TransferRun:
    label: str
    history: dict = field(default_factory=dict)
    phases: list[Phase] = field(default_factory=list)
    initial_val_accuracy: float = float("nan")
    weight_change: dict[str, float] = field(default_factory=dict)
    batchnorm_change: float = 0.0
    seconds: float = 0.0
    stopped: bool = False
    #: the trained model (kept for the session that trained it; dropped before sharing)
    model: object = field(default=None, repr=False, compare=False)

    def last(self, metric: str) -> float:
        values = self.history.get(metric) or [np.nan]
        return float(values[-1])

    @property
    def final_val_accuracy(self) -> float:
        return self.last("val_accuracy")

    def phase(self, number: int) -> Phase | None:
        return next((p for p in self.phases if p.number == number), None)

    def phase_drop(self) -> float:
        """Val accuracy at the end of phase 2 minus the worst in the first 2 epochs of
        phase 3: how much fine-tuning first damaged what the head had learnt."""
        phase3 = self.phase(3)
        if phase3 is None or not phase3.epochs:
            return float("nan")
        acc = self.history.get("val_accuracy", [])
        boundary = phase3.start_epoch
        if boundary < 1 or len(acc) <= boundary:
            return float("nan")
        return float(acc[boundary - 1] - min(acc[boundary:boundary + 2]))


@dataclass
class TransferResult:
    settings: TransferSettings
    description: str
    class_names: tuple[str, ...]
    runs: dict[str, TransferRun]
    seconds: float = 0.0

    @property
    def transfer(self) -> TransferRun | None:
        return self.runs.get("transfer")

    @property
    def scratch(self) -> TransferRun | None:
        return self.runs.get("from scratch")

    def without_models(self) -> TransferResult:
        """A copy holding only data (curves, counts), safe to share between sessions."""
        runs = {k: dataclasses.replace(r, model=None) for k, r in self.runs.items()}
        return dataclasses.replace(self, runs=runs)

    @property
    def complete(self) -> bool:
        expected = 2 if self.settings.scratch else 1
        return len(self.runs) == expected and not any(r.stopped for r in self.runs.values())


def load_base(name: str):
    """A fresh copy of a pretrained base (``cnnviz.models.load_model`` builds a new one)."""
    from cnnviz.models import load_model

    return load_model(name)


def transfer_split(settings: TransferSettings, labeled=None) -> Split:
    """The target data for ``settings``, preprocessed for the base model."""
    from cnnviz.models import input_size, preprocess

    size = input_size(settings.base)[0]
    if labeled is not None:
        split = user_split(labeled, n_train=settings.n_train, n_val=settings.n_val,
                           seed=settings.seed, size=size)
    else:
        split = load_split(settings.target, n_train=settings.n_train, n_val=settings.n_val,
                           seed=settings.seed, size=size)
    return Split(preprocess(settings.base, split.x_train), split.y_train,
                 preprocess(settings.base, split.x_val), split.y_val,
                 split.class_names, split.description)


def run_transfer(base, split: Split, settings: TransferSettings, *, label: str = "transfer",
                 callbacks: Callbacks = None, on_epoch: OnEpoch = None,
                 should_stop: ShouldStop = None) -> TransferRun:
    """The three phases on a private copy of ``base`` (``base`` itself is never changed).

    1. new head on the pretrained base; 2. base frozen, train the head;
    3. unfreeze the top ``settings.unfreeze`` layers, fine-tune at a low rate.
    The "no_freeze" recipe trains everything in phase 2; "high_lr" fine-tunes at
    ``settings.high_lr``.
    """
    import keras

    from cnnviz.models import copy_model

    if settings.recipe not in RECIPES:
        raise ModelError(f"Unknown recipe {settings.recipe!r}; choose from {', '.join(RECIPES)}.")
    keras.utils.set_random_seed(settings.seed)
    model = add_head(copy_model(base), split.n_classes, head=settings.head, seed=settings.seed)
    run = TransferRun(label)
    start = time.perf_counter()
    pretrained = base_weights(model)
    bn_before = batchnorm_state(model)
    run.initial_val_accuracy = evaluate(model, split.x_val, split.y_val)[1]
    run.phases.append(Phase("1 · new head, nothing frozen yet", 0, 0, 0.0,
                            parameter_counts(model), number=1))

    # phase 2: train the head (on a frozen base, unless the recipe says otherwise)
    if settings.recipe == "no_freeze":
        unfreeze_all(model)
        name = "2 · everything trainable (no freezing)"
    else:
        freeze_base(model, unfreeze_top=0)
        name = "2 · base frozen, train the head"
    compile_model(model, settings.head_lr)
    run.phases.append(Phase(name, 0, settings.head_epochs, settings.head_lr,
                            parameter_counts(model), number=2))
    run.stopped = fit(model, split, epochs=settings.head_epochs,
                      batch_size=settings.batch_size, label=f"{label}: phase 2",
                      history=run.history, callbacks=callbacks, on_epoch=on_epoch,
                      should_stop=should_stop)

    # phase 3: unfreeze the top layers, fine-tune slowly (BatchNorm stays frozen)
    if not run.stopped and settings.fine_tune_epochs > 0:
        lr = settings.high_lr if settings.recipe == "high_lr" else settings.fine_tune_lr
        freeze_base(model, unfreeze_top=settings.unfreeze)
        compile_model(model, lr)
        done = len(run.history.get("loss", []))
        run.phases.append(Phase(f"3 · fine-tune top {settings.unfreeze} layers",
                                done, settings.fine_tune_epochs, lr, parameter_counts(model),
                                number=3))
        run.stopped = fit(model, split, epochs=settings.fine_tune_epochs, initial_epoch=done,
                          batch_size=settings.batch_size, label=f"{label}: phase 3",
                          history=run.history, callbacks=callbacks, on_epoch=on_epoch,
                          should_stop=should_stop)
    run.weight_change = weight_change(pretrained, base_weights(model))
    run.batchnorm_change = batchnorm_change(bn_before, batchnorm_state(model))
    run.seconds = time.perf_counter() - start
    run.model = model
    return run


def run_scratch(base, split: Split, settings: TransferSettings, *, label: str = "from scratch",
                callbacks: Callbacks = None, on_epoch: OnEpoch = None,
                should_stop: ShouldStop = None) -> TransferRun:
    """The same architecture with random weights, all trainable, for as many epochs."""
    import keras

    keras.utils.set_random_seed(settings.seed)
    fresh = keras.models.clone_model(base)  # same layers, newly initialised weights
    model = add_head(fresh, split.n_classes, head=settings.head, seed=settings.seed)
    unfreeze_all(model)
    compile_model(model, settings.scratch_lr)
    run = TransferRun(label)
    start = time.perf_counter()
    run.initial_val_accuracy = evaluate(model, split.x_val, split.y_val)[1]
    epochs = settings.head_epochs + settings.fine_tune_epochs
    run.phases.append(Phase("everything trainable, random start", 0, epochs,
                            settings.scratch_lr, parameter_counts(model)))
    run.stopped = fit(model, split, epochs=epochs, batch_size=settings.batch_size, label=label,
                      history=run.history, callbacks=callbacks, on_epoch=on_epoch,
                      should_stop=should_stop)
    run.seconds = time.perf_counter() - start
    return run


def transfer_experiment(base, split: Split, settings: TransferSettings, *,
                        callbacks: Callbacks = None, on_epoch: OnEpoch = None,
                        should_stop: ShouldStop = None) -> TransferResult:
    """Transfer (three phases) and, if asked, the from-scratch baseline on the same data."""
    result = TransferResult(settings, split.description, split.class_names, runs={})
    start = time.perf_counter()
    result.runs["transfer"] = run_transfer(base, split, settings, callbacks=callbacks,
                                           on_epoch=on_epoch, should_stop=should_stop)
    if settings.scratch and not result.runs["transfer"].stopped:
        result.runs["from scratch"] = run_scratch(base, split, settings, callbacks=callbacks,
                                                  on_epoch=on_epoch, should_stop=should_stop)
    result.seconds = time.perf_counter() - start
    return result


# --------------------------------------------------------------------------- results


class ResultStore:
    """A small thread-safe LRU of finished results keyed on their settings.

    Shared by every session of the server (results are plain data, never models):
    the same settings and seeds give the same curves, so nobody trains twice.
    """

    def __init__(self, max_entries: int = 32):
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self.max_entries = max_entries

    def get(self, key):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            return None

    def put(self, key, value) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)


# --------------------------------------------------------------------------- predictions


def predict_probabilities(model, base: str, image) -> np.ndarray:
    """Class probabilities of a transfer model for one image (uint8 or float [0, 1])."""
    from cnnviz.models import preprocess, probabilities

    return probabilities(np.asarray(model(preprocess(base, image), training=False))[0])
