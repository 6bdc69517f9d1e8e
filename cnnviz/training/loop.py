"""The training loop every experiment shares: compile, fit on seeded batches, report
each epoch, stop when asked, evaluate.

A training run is a *job* (:mod:`cnnviz.jobs`): it may run in a worker thread or in
another process, so it talks to the outside through two plain callables only:

- ``report(progress)``: the progress so far as a plain dict (:class:`Progress`),
  after every epoch and at every phase change;
- ``should_stop()``: polled after every batch; once it answers True, training ends
  at the next batch (a cooperative cancel) and the epochs done so far are kept.

Runs are reproducible per settings, even several at once in one process. Keras'
``set_random_seed`` is process-global (Python, numpy and TensorFlow seeds): two runs
that each set it and then draw from it interleave their draws, so neither gets the
numbers its seed promised. Here no run draws from it while it trains: weights come
from seeded initialisers, dropout and augmentation layers carry their own seeds, and
the batches are shuffled by a numpy generator seeded per run and epoch
(:func:`fit`), not by TensorFlow's global seed. The one step that still reads the
global seed, building a model whose initialisers have none (``clone_model`` of a
pretrained base), runs inside :func:`seeded`, one build at a time.

Keras is imported inside the functions: importing this module is cheap.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

METRICS = ("loss", "accuracy", "val_loss", "val_accuracy")

Report = Callable[[dict], None] | None
ShouldStop = Callable[[], bool] | None


class Progress:
    """What a training job has done so far, published through ``report`` as a plain dict.

    The dict (``snapshot()``), all plain numbers, strings, lists and dicts::

        {"runs": {label: {"epochs": planned epochs,
                          "history": {"loss": [...], "accuracy": [...], ...},
                          "phases": [[start epoch, name], ...]}},
         "run": label of the current run, "phase": name of its current phase,
         "epoch": epochs done in the current run, "unit": "epoch" (or "step"),
         "fraction": share of every planned epoch done, "message": one line}

    The page draws the curves from ``history`` while the job runs, and the phase
    boundaries from ``phases`` as they appear.
    """

    def __init__(self, report: Report = None, *, unit: str = "epoch"):
        self.report = report
        self.unit = unit
        self.runs: dict[str, dict] = {}
        self.current = ""
        self.current_phase = ""
        self.message = "starting…"

    def plan(self, label: str, epochs: int) -> None:
        """Announce a run and how many epochs it will train (it may stop earlier)."""
        run = self.runs.setdefault(label, {"epochs": 0, "history": {}, "phases": []})
        run["epochs"] = int(epochs)

    def phase(self, label: str, name: str, start_epoch: int | None = None) -> None:
        """A new phase of run ``label`` starts after ``start_epoch`` epochs (default: now)."""
        run = self.runs.setdefault(label, {"epochs": 0, "history": {}, "phases": []})
        start = self._done(label) if start_epoch is None else int(start_epoch)
        run["phases"].append([start, name])
        self.current, self.current_phase = label, name
        self.message = f"{label}: {name}"
        self._publish()

    def epoch(self, label: str, history: dict) -> None:
        """Run ``label`` finished an epoch; ``history`` holds every epoch so far."""
        run = self.runs.setdefault(label, {"epochs": 0, "history": {}, "phases": []})
        run["history"] = {key: [float(v) for v in values] for key, values in history.items()}
        if self.current != label:
            self.current, self.current_phase = label, ""
        done = self._done(label)
        parts = [f"{self.unit} {done}/{max(run['epochs'], done)}"]
        for key, name in (("accuracy", "accuracy"), ("val_accuracy", "val accuracy"),
                          ("loss", "loss")):
            values = run["history"].get(key)
            if values and math.isfinite(values[-1]):
                parts.append(f"{name} {values[-1]:.2f}")
        self.message = f"{label}: " + " · ".join(parts)
        self._publish()

    def _done(self, label: str) -> int:
        history = self.runs.get(label, {}).get("history", {})
        return max((len(values) for values in history.values()), default=0)

    def snapshot(self) -> dict:
        planned = sum(max(run["epochs"], self._done(label)) for label, run in self.runs.items())
        done = sum(self._done(label) for label in self.runs)
        return {
            "runs": {label: {"epochs": run["epochs"],
                             "history": {k: list(v) for k, v in run["history"].items()},
                             "phases": [list(p) for p in run["phases"]]}
                     for label, run in self.runs.items()},
            "run": self.current, "phase": self.current_phase,
            "epoch": self._done(self.current) if self.current else 0, "unit": self.unit,
            "fraction": done / planned if planned else 0.0, "message": self.message,
        }

    def _publish(self) -> None:
        if self.report is not None:
            self.report(self.snapshot())


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


_SEED_LOCK = threading.Lock()


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Keras' global seed set to ``seed`` for the block, one block at a time in this
    process: wrap the building of a model whose initialisers read the global seed."""
    import keras

    with _SEED_LOCK:
        keras.utils.set_random_seed(int(seed))
        yield


def _keras_classes():
    """Keras classes of the loop, defined on first use (keeps this module's import cheap)."""
    global _CLASSES
    if _CLASSES is None:
        import keras

        class EpochRecorder(keras.callbacks.Callback):
            """Append each epoch's metrics to ``history`` and report them."""

            def __init__(self, history, label, progress):
                super().__init__()
                self.history, self.label, self.progress = history, label, progress

            def on_epoch_end(self, epoch, logs=None):
                logs = logs or {}
                for key in METRICS:
                    self.history.setdefault(key, []).append(float(logs.get(key, np.nan)))
                if self.progress is not None:
                    self.progress.epoch(self.label, self.history)

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

        class SeededBatches(keras.utils.PyDataset):
            """Every epoch's batches in an order drawn from (seed, epoch) alone.

            One long sequence of ``epochs`` x ``per_epoch`` batches, read with
            ``steps_per_epoch=per_epoch``: batch ``i`` belongs to epoch
            ``first_epoch + i // per_epoch``, so the order never depends on when
            (or in which thread) Keras asks for it.
            """

            def __init__(self, x, y, *, batch_size, epochs, first_epoch, seed):
                super().__init__()
                self.x, self.y = x, y
                self.batch_size = int(batch_size)
                self.per_epoch = max(1, math.ceil(len(x) / self.batch_size))
                self.epochs, self.first_epoch, self.seed = int(epochs), first_epoch, seed

            def __len__(self):
                return self.per_epoch * self.epochs

            def __getitem__(self, index):
                epoch, batch = divmod(int(index), self.per_epoch)
                order = np.random.default_rng([self.seed, self.first_epoch + epoch]) \
                    .permutation(len(self.x))
                pick = order[batch * self.batch_size:(batch + 1) * self.batch_size]
                return self.x[pick], self.y[pick]

        _CLASSES = (EpochRecorder, StopFlag, SeededBatches)
    return _CLASSES


_CLASSES = None


def compile_model(model, learning_rate: float) -> None:
    """Adam + cross-entropy on logits. Call again after every change of ``trainable``."""
    import keras

    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
        jit_compile=False,
    )


def fit(model, split, *, epochs: int, batch_size: int, label: str, history: dict,
        initial_epoch: int = 0, seed: int = 0, progress: Progress | None = None,
        should_stop: ShouldStop = None) -> bool:
    """Train ``epochs`` more epochs on ``split`` (a :class:`~cnnviz.training.data.Split`),
    appending to ``history``; True if ``should_stop`` ended it early.

    The batches are shuffled anew every epoch from ``(seed, epoch)``, so the same
    settings give the same curves whatever else runs in this process.
    """
    if epochs <= 0:
        return False
    recorder_cls, stop_cls, batches_cls = _keras_classes()
    stop = stop_cls(should_stop) if should_stop is not None else None
    batches = batches_cls(split.x_train, split.y_train, batch_size=batch_size, epochs=epochs,
                          first_epoch=initial_epoch, seed=seed)
    model.fit(
        batches, steps_per_epoch=batches.per_epoch, shuffle=False,
        validation_data=(split.x_val, split.y_val), validation_batch_size=batch_size,
        epochs=initial_epoch + epochs, initial_epoch=initial_epoch, verbose=0,
        callbacks=[recorder_cls(history, label, progress), *([stop] if stop else [])],
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
