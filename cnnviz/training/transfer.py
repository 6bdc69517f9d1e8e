"""Transfer learning: a pretrained base, a new head, freezing, and the three phases,
against the same network trained from scratch on the same few images.

1. new head on the pretrained base; 2. base frozen, train the head; 3. unfreeze the
top layers and fine-tune at a low rate. BatchNorm layers stay frozen throughout.

The baselines are fair: "from scratch" trains every layer, BatchNorm included (in
training mode, as a network trained from scratch does), for as many epochs on the same
images; "no freezing" uses the standard recipe's learning rates phase by phase, so it
differs from the standard recipe in the freezing alone; "fine-tune fast" differs in
phase 3's learning rate alone. Each arm's learning rate is the best of the same small
grid on validation at the defaults (``benchmarks/bench_transfer.py``).

As a job (:mod:`cnnviz.jobs`, kind ``"transfer"``): :func:`run` takes a
:class:`TransferSettings` and returns a :class:`TransferResult`, both plain data. The
trained model is never shared: the result carries its weights, and the session that
wants to try it rebuilds its own copy (:func:`rebuild_model`).

The freeze and unfreeze loops walk the model's top-level layers: :func:`add_head`
builds the model flat from the base's own layers, so that is every layer.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from cnnviz.data import LabeledImages
from cnnviz.errors import DatasetError, ModelError
from cnnviz.training.data import Split, class_names, load_split, user_split
from cnnviz.training.loop import (
    Progress,
    Report,
    Run,
    ShouldStop,
    compile_model,
    evaluate,
    fit,
    seeded,
)

HEADS = {
    "linear": "Global average pooling → Dense (logits)",
    "dropout": "Global average pooling → Dropout 0.3 → Dense (logits)",
    "hidden": "Global average pooling → Dense 64 ReLU → Dropout 0.3 → Dense (logits)",
}

RECIPES = {
    "standard": "Freeze, then fine-tune slowly",
    "no_freeze": "No freezing, same rates",
    "high_lr": "Freeze, then fine-tune fast",
}
RECIPE_HELP = (
    "**Freeze, then fine-tune slowly**: the standard recipe. "
    "**No freezing, same rates**: the same phases and learning rates, but the base trains "
    "with the new random head from the start: only the freezing differs. "
    "**Freeze, then fine-tune fast**: the standard phases, but phase 3 at a high learning "
    "rate: only that rate differs."
)
#: BatchNorm momentum of the from-scratch network. Keras' 0.99 averages the batch
#: statistics over ~100 steps, as long as a whole run here (50 to 300 steps) while the
#: weights change fast: the moving statistics lagged ~10 % behind and the net predicted one
#: class at inference (textures, 64 per class: 0.33 where the same weights scored 1.00
#: with batch or whole-training-set statistics). 0.9 (PyTorch's default) follows within
#: ~10 steps (lag ~1 %, inference accuracy 1.00).
SCRATCH_BATCHNORM_MOMENTUM = 0.9
#: the grid each arm's learning rate was picked from (best mean validation accuracy over
#: seeds 0 and 1 at the default settings; ``benchmarks/bench_transfer.py``)
LEARNING_RATE_GRID = (1e-3, 3e-3, 1e-2)


@dataclass(frozen=True)
class TransferSettings:
    """Everything that decides a transfer-learning run; identical settings give identical
    results, so a finished result is shared by everyone who asks for them."""

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
    #: the student's own images (a zip or camera photos), when ``target`` is one of those
    data: LabeledImages | None = field(default=None, repr=False)


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
    """Everything trainable except BatchNorm (kept in inference mode): the pretrained
    base without freezing, its BatchNorm statistics still the pretrained ones."""
    import keras

    for layer in model.layers:
        layer.trainable = not isinstance(layer, keras.layers.BatchNormalization)


def train_everything(model) -> None:
    """Every layer trainable, BatchNorm included (training mode: its moving statistics
    follow the batches, at :data:`SCRATCH_BATCHNORM_MOMENTUM`), as a network trained from
    scratch is."""
    import keras

    for layer in model.layers:
        layer.trainable = True
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = SCRATCH_BATCHNORM_MOMENTUM


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
class TransferRun(Run):
    phases: list[Phase] = field(default_factory=list)
    initial_val_accuracy: float = float("nan")
    weight_change: dict[str, float] = field(default_factory=dict)
    batchnorm_change: float = 0.0
    #: the trained model's weights (``model.get_weights()``) of the transfer run: data,
    #: so that every session that asks for them can rebuild its own model
    weights: list[np.ndarray] | None = field(default=None, repr=False, compare=False)

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

    @property
    def complete(self) -> bool:
        expected = 2 if self.settings.scratch else 1
        return len(self.runs) == expected and not any(r.stopped for r in self.runs.values())


def load_base(name: str):
    """A fresh copy of a pretrained base (``cnnviz.models.load_model`` builds a new one)."""
    from cnnviz.models import load_model

    return load_model(name)


def transfer_split(settings: TransferSettings) -> Split:
    """The target data for ``settings``, preprocessed for the base model."""
    from cnnviz.models import input_size, preprocess

    size = input_size(settings.base)[0]
    if settings.data is not None:
        split = user_split(settings.data, n_train=settings.n_train, n_val=settings.n_val,
                           seed=settings.seed, size=size)
    elif settings.target in ("zip", "camera"):
        raise DatasetError("Upload a zip of class folders or take photos first.")
    else:
        split = load_split(settings.target, n_train=settings.n_train, n_val=settings.n_val,
                           seed=settings.seed, size=size)
    return Split(preprocess(settings.base, split.x_train), split.y_train,
                 preprocess(settings.base, split.x_val), split.y_val,
                 split.class_names, split.description)


def run_transfer(base, split: Split, settings: TransferSettings, *, label: str = "transfer",
                 progress: Progress | None = None,
                 should_stop: ShouldStop = None) -> TransferRun:
    """The three phases on a private copy of ``base`` (``base`` itself is never changed).

    1. new head on the pretrained base; 2. base frozen, train the head;
    3. unfreeze the top ``settings.unfreeze`` layers, fine-tune at a low rate.
    The "no_freeze" recipe trains everything (BatchNorm still frozen) in both phases at
    the same rates; "high_lr" fine-tunes at ``settings.high_lr``.
    """
    from cnnviz.models import copy_model

    if settings.recipe not in RECIPES:
        raise ModelError(f"Unknown recipe {settings.recipe!r}; choose from {', '.join(RECIPES)}.")
    with seeded(settings.seed):
        model = add_head(copy_model(base), split.n_classes, head=settings.head,
                         seed=settings.seed)
    run = TransferRun(label)
    start = time.perf_counter()
    pretrained = base_weights(model)
    bn_before = batchnorm_state(model)
    run.initial_val_accuracy = evaluate(model, split.x_val, split.y_val)[1]
    _begin(run, Phase("1 · new head, nothing frozen yet", 0, 0, 0.0,
                      parameter_counts(model), number=1), progress)

    # phase 2: train the head (on a frozen base, unless the recipe says otherwise)
    if settings.recipe == "no_freeze":
        unfreeze_all(model)
        name = "2 · everything trainable (no freezing)"
    else:
        freeze_base(model, unfreeze_top=0)
        name = "2 · base frozen, train the head"
    compile_model(model, settings.head_lr)
    _begin(run, Phase(name, 0, settings.head_epochs, settings.head_lr,
                      parameter_counts(model), number=2), progress)
    run.stopped = fit(model, split, epochs=settings.head_epochs,
                      batch_size=settings.batch_size, label=label, history=run.history,
                      seed=settings.seed, progress=progress, should_stop=should_stop)

    # phase 3: unfreeze the top layers, fine-tune slowly (BatchNorm stays frozen)
    if not run.stopped and settings.fine_tune_epochs > 0:
        lr = settings.high_lr if settings.recipe == "high_lr" else settings.fine_tune_lr
        if settings.recipe == "no_freeze":
            name = "3 · everything trainable, at the fine-tune rate"
        else:
            freeze_base(model, unfreeze_top=settings.unfreeze)
            name = f"3 · fine-tune top {settings.unfreeze} layers"
        compile_model(model, lr)
        done = len(run.history.get("loss", []))
        _begin(run, Phase(name, done,
                          settings.fine_tune_epochs, lr, parameter_counts(model), number=3),
               progress)
        run.stopped = fit(model, split, epochs=settings.fine_tune_epochs, initial_epoch=done,
                          batch_size=settings.batch_size, label=label, history=run.history,
                          seed=settings.seed, progress=progress, should_stop=should_stop)
    run.weight_change = weight_change(pretrained, base_weights(model))
    run.batchnorm_change = batchnorm_change(bn_before, batchnorm_state(model))
    run.seconds = time.perf_counter() - start
    run.weights = [np.array(w) for w in model.get_weights()]
    return run


def _begin(run: TransferRun, phase: Phase, progress: Progress | None) -> None:
    """Record a phase of ``run`` and announce it (the page draws its boundary)."""
    run.phases.append(phase)
    if progress is not None:
        progress.phase(run.label, phase.name, phase.start_epoch)


def run_scratch(base, split: Split, settings: TransferSettings, *, label: str = "from scratch",
                progress: Progress | None = None,
                should_stop: ShouldStop = None) -> TransferRun:
    """The same architecture with random weights, every layer trainable (BatchNorm in
    training mode, at :data:`SCRATCH_BATCHNORM_MOMENTUM`), for as many epochs on the same
    images."""
    import keras

    with seeded(settings.seed):  # the base's initialisers draw from Keras' global seed
        fresh = keras.models.clone_model(base)  # same layers, newly initialised weights
        model = add_head(fresh, split.n_classes, head=settings.head, seed=settings.seed)
    train_everything(model)
    compile_model(model, settings.scratch_lr)
    run = TransferRun(label)
    start = time.perf_counter()
    run.initial_val_accuracy = evaluate(model, split.x_val, split.y_val)[1]
    epochs = settings.head_epochs + settings.fine_tune_epochs
    _begin(run, Phase("everything trainable (BatchNorm too), random start", 0, epochs,
                      settings.scratch_lr, parameter_counts(model)), progress)
    run.stopped = fit(model, split, epochs=epochs, batch_size=settings.batch_size, label=label,
                      history=run.history, seed=settings.seed, progress=progress,
                      should_stop=should_stop)
    run.seconds = time.perf_counter() - start
    return run


def transfer_experiment(base, split: Split, settings: TransferSettings, *,
                        progress: Progress | None = None,
                        should_stop: ShouldStop = None) -> TransferResult:
    """Transfer (three phases) and, if asked, the from-scratch baseline on the same data."""
    result = TransferResult(settings, split.description, split.class_names, runs={})
    start = time.perf_counter()
    if progress is not None:
        epochs = settings.head_epochs + settings.fine_tune_epochs
        progress.plan("transfer", epochs)
        if settings.scratch:
            progress.plan("from scratch", epochs)
    result.runs["transfer"] = run_transfer(base, split, settings, progress=progress,
                                           should_stop=should_stop)
    if settings.scratch and not result.runs["transfer"].stopped:
        result.runs["from scratch"] = run_scratch(base, split, settings, progress=progress,
                                                  should_stop=should_stop)
    result.seconds = time.perf_counter() - start
    return result


def run(settings: TransferSettings, report: Report = None,
        should_stop: ShouldStop = None) -> TransferResult:
    """The experiment as a job: a fresh copy of the base, the data, both runs."""
    return transfer_experiment(load_base(settings.base), transfer_split(settings), settings,
                               progress=Progress(report), should_stop=should_stop)


def cost(settings: TransferSettings) -> tuple[str, float]:
    """(what kind of work, how much): image passes of every epoch of both runs.

    The base decides the cost of an image (MobileNetV2 at 224 px is far dearer than
    the shapes CNN at 64), so each base is its own kind of work.
    """
    n_classes = (len(settings.data.class_names) if settings.data is not None
                 else len(class_names(settings.target)))
    epochs = (settings.head_epochs + settings.fine_tune_epochs) * (2 if settings.scratch else 1)
    return f"transfer:{settings.base}", epochs * n_classes * (settings.n_train
                                                              + settings.n_val / 3)


def rebuild_model(result: TransferResult):
    """A new, private Keras model with the trained weights of ``result``'s transfer run:
    how a session gets "its" model from a result shared as data."""
    settings, trained = result.settings, result.transfer
    if trained is None or trained.weights is None:
        raise ModelError("This run kept no trained model: run the training again.")
    model = add_head(load_base(settings.base), len(result.class_names), head=settings.head,
                     seed=settings.seed)
    model.set_weights(trained.weights)
    return model


def predict_probabilities(model, base: str, image) -> np.ndarray:
    """Class probabilities of a transfer model for one image (uint8 or float [0, 1])."""
    from cnnviz.models import preprocess, probabilities

    return probabilities(np.asarray(model(preprocess(base, image), training=False))[0])
