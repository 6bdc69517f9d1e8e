"""How long a run will take on this server, from what runs here actually took.

A kind's ``cost(settings)`` says how much work the settings ask for: a cost class
(work of one sort, e.g. transfer on the shapes CNN) and a number of units (image
passes). Seconds = fixed seconds of the class (building and tracing the models) +
units x seconds per unit. Every finished run updates the seconds per unit of its
class, so the promise on a button follows the server it runs on, its load included.

The first guesses were measured with the pages' default settings by
``benchmarks/bench_train_buttons.py`` (``benchmarks/results/train_buttons.json``).
"""

from __future__ import annotations

import threading

#: cost class -> (fixed seconds, seconds per unit), measured on this project's 2-core
#: server at load average 2-4 (the defaults took 24, 19, 13 and 7 s)
FIRST_GUESS: dict[str, tuple[float, float]] = {
    "augmentation": (6.6, 0.00129),
    "transfer:shapes_cnn": (4.0, 0.00391),
    "pooled_vs_plain": (3.0, 0.00039),
    "residual": (2.9, 0.0000284),
}


class Estimator:
    """Seconds per unit of work per cost class: a first guess, then the runs measured here.

    Each measurement moves the estimate ``weight`` of the way towards it, so one
    run on a busy minute does not swing the promise, and a slower server wins after
    a few runs.
    """

    def __init__(self, first_guess: dict[str, tuple[float, float]] | None = None,
                 weight: float = 0.5):
        self._rates = dict(FIRST_GUESS if first_guess is None else first_guess)
        self.weight = weight
        self._lock = threading.Lock()

    def expected(self, cost: tuple[str, float]) -> float | None:
        """Seconds for ``cost`` (a kind's ``cost(settings)``), or None if never measured."""
        name, units = cost
        with self._lock:
            if name not in self._rates:
                return None
            fixed, per_unit = self._rates[name]
        return fixed + per_unit * units

    def record(self, cost: tuple[str, float], seconds: float) -> None:
        """A run of ``cost`` took ``seconds`` (wall time, on this server, under its load)."""
        name, units = cost
        if units <= 0 or seconds <= 0:
            return
        with self._lock:
            fixed, per_unit = self._rates.get(name, (0.0, None))
            measured = max(seconds - fixed, 0.0) / units
            per_unit = measured if per_unit is None else (
                (1 - self.weight) * per_unit + self.weight * measured)
            self._rates[name] = (fixed, per_unit)
