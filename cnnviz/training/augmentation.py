"""The augmentation experiment: the same small CNN, same seed, same few images, trained
without and then with an augmentation pipeline, at one or more seeds, to measure what it
does to overfitting and to validation accuracy.

Its conclusions are computed, not written in advance: :func:`compare` turns the runs
into per-seed gains and a noise threshold, :func:`conclusions` into the sentences the
page shows ("helped", "did not help", "within noise"), each naming its threshold.

As a job (:mod:`cnnviz.jobs`, kind ``"augmentation"``): :func:`run` takes an
:class:`AugmentSettings` (plain data: numbers, the pipeline spec, the student's own
images if any) and returns an :class:`AugmentResult` (plain data: histories).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from cnnviz.augment import DEFAULT_SPEC, normalize_spec
from cnnviz.data import LabeledImages
from cnnviz.errors import DatasetError
from cnnviz.training.data import Split, class_names, load_split, user_split
from cnnviz.training.loop import Progress, Report, Run, ShouldStop, compile_model, fit, seeded


@dataclass(frozen=True)
class AugmentSettings:
    """Everything that decides an augmentation experiment; identical settings give
    identical curves, so a finished result is shared by everyone who asks for them."""

    # The defaults come from a small sweep (benchmarks/bench_augmentation.py): at 32 px
    # and 80 epochs the default pipeline raised validation accuracy by ~20 points at both
    # seeds, in ~35 CPU seconds per seed (both arms).
    dataset: str = "shapes"  # a key of cnnviz.training.data.DATASETS, or "zip" with ``data``
    n_train: int = 40  # per class
    n_val: int = 50  # per class
    size: int = 32
    epochs: int = 80
    batch_size: int = 16
    learning_rate: float = 1e-3
    seed: int = 0
    #: seeds per arm: ``seed``, ``seed + 1``, …; two give a spread to judge a gain against
    seeds: int = 2
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
    #: validation images each run was scored on (0: not recorded)
    n_val_images: int = 0

    @property
    def complete(self) -> bool:
        return (len(self.runs) == 2 * self.settings.seeds
                and not any(r.stopped for r in self.runs.values()))

    def arm(self, arm: str) -> list[Run]:
        """The finished runs of one arm (a label of :data:`LABELS`), seed by seed."""
        return [run for label, run in self.runs.items() if arm_of(label) == arm]


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


def run_label(arm: str, seed: int, seeds: int) -> str:
    """A run's label: its arm, and its seed when the experiment runs several."""
    return arm if seeds == 1 else f"{arm} · seed {seed}"


def arm_of(label: str) -> str:
    """The arm (a label of :data:`LABELS`) a run's label belongs to."""
    return label.split(" · ")[0]


def augmentation_experiment(split: Split, settings: AugmentSettings, *,
                            progress: Progress | None = None,
                            should_stop: ShouldStop = None) -> AugmentResult:
    """Train the same CNN, same seed, same data, without and then with ``settings.spec``,
    for each of the ``settings.seeds`` seeds (the weights and batch order change with the
    seed; the images do not, so the seeds measure the training's own spread)."""
    from cnnviz.augment import describe

    result = AugmentResult(settings, split.description, runs={},
                           n_val_images=len(split.y_val))
    start = time.perf_counter()
    plan = [(run_label(arm, seed, settings.seeds), spec, seed)
            for seed in range(settings.seed, settings.seed + settings.seeds)
            for arm, spec in zip(LABELS, (None, settings.spec))]
    for label, _, _ in plan:
        if progress is not None:
            progress.plan(label, settings.epochs)
    for label, spec, seed in plan:
        if should_stop is not None and should_stop():
            break
        with seeded(seed):
            model = small_cnn(split.x_train.shape[1:], split.n_classes, augmentation_spec=spec,
                              seed=seed)
        compile_model(model, settings.learning_rate)
        run = Run(label)
        if progress is not None:
            progress.phase(label, "training", 0)
        t0 = time.perf_counter()
        run.stopped = fit(model, split, epochs=settings.epochs, batch_size=settings.batch_size,
                          label=label, history=run.history, seed=seed,
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
    return "augmentation", (2 * settings.seeds * settings.epochs * per_epoch
                            * (settings.size / 64) ** 2)


@dataclass(frozen=True)
class Comparison:
    """The measured effect of augmentation: last-epoch numbers, seed by seed."""

    val_without: tuple[float, ...]
    val_with: tuple[float, ...]
    train_with: tuple[float, ...]
    gap_without: tuple[float, ...]  # training minus validation accuracy
    gap_with: tuple[float, ...]
    n_val: int  # validation images each run is scored on

    @property
    def seeds(self) -> int:
        return len(self.val_with)

    @property
    def gains(self) -> tuple[float, ...]:
        """Validation accuracy with minus without augmentation, per seed."""
        return tuple(w - o for w, o in zip(self.val_with, self.val_without, strict=True))

    @property
    def gain(self) -> float:
        return float(np.mean(self.gains))

    @property
    def gap_change(self) -> float:
        """Mean gap with minus mean gap without (negative: the gap shrank)."""
        return float(np.mean(self.gap_with) - np.mean(self.gap_without))

    @property
    def spread(self) -> float:
        """Largest minus smallest per-seed gain (0 with one seed: unknown)."""
        return float(max(self.gains) - min(self.gains))

    @property
    def sampling_noise(self) -> float:
        """1.96 standard errors of a difference of two accuracies on ``n_val`` images,
        averaged over the seeds: 1.96·√(2·¼ / (n_val·seeds)), an upper bound (p = ½)."""
        return float(1.96 * np.sqrt(0.5 / (max(self.n_val, 1) * self.seeds)))

    @property
    def threshold(self) -> float:
        """A change counts when it is larger than both the sampling noise and the
        spread of the per-seed gains."""
        return max(self.sampling_noise, self.spread)


def compare(result: AugmentResult) -> Comparison | None:
    """The comparison of the seeds that finished both arms; None if none did."""
    without, with_aug = result.arm(LABELS[0]), result.arm(LABELS[1])
    pairs = [(o, w) for o, w in zip(without, with_aug)
             if o.history.get("val_accuracy") and w.history.get("val_accuracy")]
    if not pairs:
        return None
    s = result.settings
    n_classes = (len(s.data.class_names) if s.data is not None
                 else len(class_names(s.dataset)) if s.dataset != "zip" else 2)
    return Comparison(
        val_without=tuple(o.last("val_accuracy") for o, _ in pairs),
        val_with=tuple(w.last("val_accuracy") for _, w in pairs),
        train_with=tuple(w.last("accuracy") for _, w in pairs),
        gap_without=tuple(o.gap for o, _ in pairs), gap_with=tuple(w.gap for _, w in pairs),
        n_val=result.n_val_images or s.n_val * n_classes)


def _points(x: float) -> str:
    """A difference of accuracies in points: +20 points; -0.4 reads +0, not -0."""
    return f"{round(100 * x) + 0:+d} points"


#: training accuracy (with augmentation) under which the run is still learning the task
UNDERFIT = 0.9


def conclusions(c: Comparison) -> dict[str, str]:
    """The sentences of the outcome, each from the numbers and naming its threshold:
    ``verdict`` (helped / hurt / within noise), ``gap``, ``noise`` (how the threshold
    was set) and, when the run disagrees with the textbook, ``disagrees`` (why it can)."""
    t = c.threshold
    seeds = (f"mean of {c.seeds} seeds, per-seed gains "
             + ", ".join(_points(g) for g in c.gains) if c.seeds > 1 else "one seed")
    before, after = float(np.mean(c.val_without)), float(np.mean(c.val_with))
    numbers = f"validation accuracy {before:.0%} → {after:.0%} ({seeds})"
    if c.gain > t:
        verdict = (f"Augmentation **helped**: {numbers}; the gain of {_points(c.gain)} is "
                   f"larger than the noise threshold of {100 * t:.0f} points.")
    elif c.gain < -t:
        verdict = (f"Augmentation **hurt**: {numbers}; the drop of {_points(c.gain)} is "
                   f"larger than the noise threshold of {100 * t:.0f} points.")
    else:
        verdict = (f"**Within noise**: {numbers}; a change of {_points(c.gain)} is not larger "
                   f"than the noise threshold of {100 * t:.0f} points, so this run cannot "
                   "tell the two apart.")
    gap_before, gap_after = float(np.mean(c.gap_without)), float(np.mean(c.gap_with))
    gap_numbers = f"train–validation gap {100 * gap_before:+.0f} → {100 * gap_after:+.0f} points"
    if c.gap_change < -t:
        gap = f"The {gap_numbers}: augmentation **shrank** the overfitting."
    elif c.gap_change > t:
        gap = f"The {gap_numbers}: the gap **grew** with augmentation."
    else:
        gap = (f"The {gap_numbers}: no change larger than the {100 * t:.0f}-point "
               "threshold.")
    noise = (f"Threshold: the larger of 1.96 standard errors of an accuracy difference on "
             f"{c.n_val} validation images over {c.seeds} seed{'s' * (c.seeds > 1)} "
             f"({100 * c.sampling_noise:.0f} points) and "
             + (f"the spread of the per-seed gains ({100 * c.spread:.0f} points)."
                if c.seeds > 1 else "nothing else: one seed shows no spread, so a "
                "smaller difference could be the seed's luck."))
    out = {"verdict": verdict, "gap": gap, "noise": noise}
    if c.gain <= t:
        causes = []
        if float(np.mean(c.train_with)) < UNDERFIT:
            causes.append(f"with augmentation the network reached only "
                          f"{float(np.mean(c.train_with)):.0%} training accuracy: the harder "
                          "task needs more epochs")
        if gap_before <= t:
            causes.append("without augmentation it barely overfits, so there is little to fix")
        causes.append("a transformation that changes the label (a vertical flip of an "
                      "upright photo, a colour shift when colour decides the class)")
        causes.append("too few validation images to show a small gain")
        out["disagrees"] = ("The textbook expects augmentation to raise validation accuracy "
                            "on a small training set; this run does not show it. Possible "
                            "causes: " + "; ".join(causes) + ".")
    return out
