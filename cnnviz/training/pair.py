"""Pooled vs plain, trained: the two small CNNs of :func:`cnnviz.pooling.build_pair`
(the same three 3x3 convs, with or without 2x2 max pooling) trained the same way on
the same silhouettes, so that the shift probe can compare them.

As a job (:mod:`cnnviz.jobs`, kind ``"pooled_vs_plain"``): :func:`run` takes a
:class:`PairSettings` and returns a :class:`PairResult` holding the curves, the
validation accuracy and the trained weights as data; :func:`rebuild_pair` turns the
weights back into models wherever they are needed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from cnnviz.training.data import Split
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

NAMES = ("pooled", "plain")


@dataclass(frozen=True)
class PairSettings:
    """Everything that decides the pair's training (identical settings, identical models)."""

    n_train: int = 1500
    epochs: int = 8
    seed: int = 0
    n_val: int = 300
    batch_size: int = 32
    learning_rate: float = 3e-3


@dataclass
class PairResult:
    settings: PairSettings
    class_names: tuple[str, ...]
    runs: dict[str, Run]
    #: final validation accuracy per model
    accuracy: dict[str, float]
    #: ``model.get_weights()`` per model
    weights: dict[str, list[np.ndarray]]
    seconds: float = 0.0

    @property
    def complete(self) -> bool:
        return len(self.weights) == len(NAMES) and not any(r.stopped for r in self.runs.values())


def validation_images(settings: PairSettings) -> tuple[np.ndarray, np.ndarray]:
    """(images, labels) the pair is validated on, the same every time."""
    from cnnviz.pooling import silhouettes

    images, labels, _ = silhouettes(settings.n_val, seed=settings.seed + 10_000)
    return images, labels


def split(settings: PairSettings) -> Split:
    """Training and validation silhouettes, drawn with different seeds."""
    from cnnviz.pooling import silhouettes

    train_x, train_y, names = silhouettes(settings.n_train, seed=settings.seed)
    val_x, val_y = validation_images(settings)
    return Split(train_x, train_y, val_x, val_y, tuple(names), "shape silhouettes")


def train_pair(settings: PairSettings, *, progress: Progress | None = None,
               should_stop: ShouldStop = None) -> PairResult:
    """Train the pooled and then the plain model on the same data with the same settings."""
    from cnnviz.pooling import build_pair

    data = split(settings)
    result = PairResult(settings, data.class_names, runs={}, accuracy={}, weights={})
    start = time.perf_counter()
    with seeded(settings.seed):
        models = build_pair(data.n_classes, seed=settings.seed)
    for name in NAMES:
        if progress is not None:
            progress.plan(name, settings.epochs)
    for name in NAMES:
        if should_stop is not None and should_stop():
            break
        model = models[name]
        compile_model(model, settings.learning_rate)
        run = result.runs[name] = Run(name)
        if progress is not None:
            progress.phase(name, "training", 0)
        t0 = time.perf_counter()
        run.stopped = fit(model, data, epochs=settings.epochs, batch_size=settings.batch_size,
                          label=name, history=run.history, seed=settings.seed,
                          progress=progress, should_stop=should_stop)
        run.seconds = time.perf_counter() - t0
        if run.stopped:
            break
        result.accuracy[name] = evaluate(model, data.x_val, data.y_val)[1]
        result.weights[name] = [np.array(w) for w in model.get_weights()]
    result.seconds = time.perf_counter() - start
    return result


def run(settings: PairSettings, report: Report = None,
        should_stop: ShouldStop = None) -> PairResult:
    """The pair's training as a job."""
    return train_pair(settings, progress=Progress(report), should_stop=should_stop)


def cost(settings: PairSettings) -> tuple[str, float]:
    """(what kind of work, how much): image passes of both models over every epoch."""
    return "pooled_vs_plain", 2 * settings.epochs * (settings.n_train + settings.n_val / 3)


def rebuild_pair(result: PairResult) -> dict:
    """{"pooled": model, "plain": model} with the trained weights of ``result``."""
    from cnnviz.pooling import build_pair

    models = build_pair(len(result.class_names), seed=result.settings.seed)
    for name, model in models.items():
        model.set_weights(result.weights[name])
    return models
