"""The augmentation experiment: the same small CNN, same seed, same few images, trained
without and then with an augmentation pipeline, to measure what it does to overfitting.

As a job (:mod:`cnnviz.jobs`, kind ``"augmentation"``): :func:`run` takes an
:class:`AugmentSettings` (plain data: numbers, the pipeline spec, the student's own
images if any) and returns an :class:`AugmentResult` (plain data: histories).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from cnnviz.augment import DEFAULT_SPEC, normalize_spec
from cnnviz.data import LabeledImages
from cnnviz.errors import DatasetError
from cnnviz.training.data import Split, class_names, load_split, user_split
from cnnviz.training.loop import Progress, Report, Run, ShouldStop, compile_model, fit, seeded


@dataclass(frozen=True)
class AugmentSettings:
    """Everything that decides an augmentation experiment; identical settings give
    identical curves, so a finished result is shared by everyone who asks for them."""

    dataset: str = "shapes"  # a key of cnnviz.training.data.DATASETS, or "zip" with ``data``
    n_train: int = 40  # per class
    n_val: int = 50  # per class
    size: int = 64
    epochs: int = 40
    batch_size: int = 16
    learning_rate: float = 1e-3
    seed: int = 0
    #: the augmentation pipeline, as ``cnnviz.augment`` specs it (normalised)
    spec: list = field(default_factory=lambda: normalize_spec(DEFAULT_SPEC))
    #: the student's own images (a zip of class folders), when ``dataset`` is "zip"
    data: LabeledImages | None = field(default=None, repr=False)

    def __post_init__(self):
        # one spelling per pipeline, so that equal pipelines are equal settings
        object.__setattr__(self, "spec", normalize_spec(self.spec))

    def split(self) -> Split:
        """The training and validation images these settings name."""
        if self.data is not None:
            return user_split(self.data, n_train=self.n_train, n_val=self.n_val,
                              size=self.size, seed=self.seed)
        if self.dataset == "zip":
            raise DatasetError("Upload a zip of class folders first.")
        return load_split(self.dataset, n_train=self.n_train, n_val=self.n_val,
                          size=self.size, seed=self.seed)


@dataclass
class AugmentResult:
    settings: AugmentSettings
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

    from cnnviz.augment import pipeline_layers

    init = keras.initializers.HeNormal(seed=seed)
    inputs = keras.Input(shape=tuple(input_shape), name="image")
    x = inputs
    for layer in pipeline_layers(augmentation_spec, tuple(input_shape)[:2], seed=seed):
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


LABELS = ("without augmentation", "with augmentation")


def augmentation_experiment(split: Split, settings: AugmentSettings, *,
                            progress: Progress | None = None,
                            should_stop: ShouldStop = None) -> AugmentResult:
    """Train the same CNN, same seed, same data, without and then with ``settings.spec``."""
    from cnnviz.augment import describe

    result = AugmentResult(settings, split.description, runs={})
    start = time.perf_counter()
    for label in LABELS:
        if progress is not None:
            progress.plan(label, settings.epochs)
    for label, spec in zip(LABELS, (None, settings.spec)):
        if should_stop is not None and should_stop():
            break
        with seeded(settings.seed):
            model = small_cnn(split.x_train.shape[1:], split.n_classes, augmentation_spec=spec,
                              seed=settings.seed)
        compile_model(model, settings.learning_rate)
        run = Run(label)
        if progress is not None:
            progress.phase(label, "training", 0)
        t0 = time.perf_counter()
        run.stopped = fit(model, split, epochs=settings.epochs, batch_size=settings.batch_size,
                          label=label, history=run.history, seed=settings.seed,
                          progress=progress, should_stop=should_stop)
        run.seconds = time.perf_counter() - t0
        result.runs[label] = run
        if run.stopped:
            break
    result.seconds = time.perf_counter() - start
    result.description = f"{split.description}; augmentation: {describe(settings.spec)}"
    return result


def run(settings: AugmentSettings, report: Report = None,
        should_stop: ShouldStop = None) -> AugmentResult:
    """The experiment as a job: load the data ``settings`` name, train both runs."""
    return augmentation_experiment(settings.split(), settings, progress=Progress(report),
                                   should_stop=should_stop)


def cost(settings: AugmentSettings) -> tuple[str, float]:
    """(what kind of work, how much): image passes of both runs, scaled by image area.

    A training image costs about three forward passes (forward, backward, update),
    a validation image one; the job system turns this into seconds with its own
    measurements on this server (:mod:`cnnviz.jobs.estimates`).
    """
    n_classes = (len(settings.data.class_names) if settings.data is not None
                 else len(class_names(settings.dataset)))
    per_epoch = n_classes * (settings.n_train + settings.n_val / 3)
    return "augmentation", 2 * settings.epochs * per_epoch * (settings.size / 64) ** 2
