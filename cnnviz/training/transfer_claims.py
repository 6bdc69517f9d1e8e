"""What the transfer-learning runs showed, in sentences computed from their numbers.

Every sentence the page states about an outcome comes from here, with its threshold
and, where several seeds ran, the spread over them. When the numbers disagree with the
textbook, the sentence says so and names what can cause it. Plain data in, text out:
no Keras, so the tests can feed any result, including the opposite one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: transfer "helps" when it beats scratch by more than this (validation accuracy)
GAIN_THRESHOLD = 0.10
#: "helps more on the similar task" needs the gains to differ by more than this
SIMILARITY_THRESHOLD = 0.10
#: a fall of validation accuracy larger than this when phase 3 starts is a "drop"
DROP_THRESHOLD = 0.05


@dataclass(frozen=True)
class Spread:
    """Mean, lowest and highest of one figure over seeds."""

    mean: float
    low: float
    high: float
    n: int

    def text(self) -> str:
        """In accuracy points: '+56 points (mean of 2 seeds, +48 to +64)'."""
        if self.n == 1:
            return f"{points(self.mean)} (one seed)"
        return (f"{points(self.mean)} (mean of {self.n} seeds, {_signed(self.low)} to "
                f"{_signed(self.high)})")


def _signed(value: float) -> str:
    """An accuracy difference in whole points with its sign; -0.3 points reads '+0'."""
    if not math.isfinite(value):
        return f"{value:+}"
    return f"{round(100 * value) + 0:+d}"


def points(value: float) -> str:
    """A difference of accuracies in percentage points: 0.56 -> '+56 points'."""
    return f"{_signed(value)} points"


def spread(values: Iterable[float]) -> Spread:
    kept = [float(v) for v in values if v == v]
    if not kept:
        return Spread(math.nan, math.nan, math.nan, 0)
    return Spread(sum(kept) / len(kept), min(kept), max(kept), len(kept))


def gain_sentence(gains: Sequence[float]) -> str:
    """Transfer minus scratch validation accuracy, over one or more seeds."""
    s = spread(gains)
    if s.n == 0:
        return ""
    limit = f"{GAIN_THRESHOLD:.0%}".replace("%", " points")
    if s.low > GAIN_THRESHOLD:
        return (f"Transfer beat scratch by {s.text()}: more than {limit} "
                + ("on every seed." if s.n > 1 else "on this seed."))
    if s.mean > GAIN_THRESHOLD:
        return (f"Transfer beat scratch by {s.text()} on average, but not by {limit} on every "
                "seed: with this few validation images a seed can swing a run; add seeds.")
    if s.mean < -GAIN_THRESHOLD:
        return (f"Scratch beat transfer ({s.text()}): unusual. Possible "
                "causes: enough images for scratch to learn the task, a head that did not "
                "converge (too few epochs or a poor learning rate), or features that do not "
                "fit the new task.")
    return (f"Transfer and scratch are within {limit} ({s.text()}): no clear gain. Possible "
            "causes: the task is easy or has enough images for scratch, or the pretrained "
            "features do not fit it.")


def similarity_sentence(similar: Sequence[float], dissimilar: Sequence[float],
                        dissimilar_scratch: Sequence[float] = ()) -> str:
    """Gains on a task like the base's and on an unlike one: does similarity matter?

    ``dissimilar_scratch``, scratch's accuracies on the dissimilar task, guards the
    comparison: where scratch scores above 1 − :data:`GAIN_THRESHOLD`, no gain above the
    threshold is possible, so a small gain there says the task is easy, not unlike.
    """
    a, b = spread(similar), spread(dissimilar)
    if not a.n or not b.n:
        return ""
    diff = a.mean - b.mean
    limit = f"{SIMILARITY_THRESHOLD:.0%}".replace("%", " points")
    said = f"gain {a.text()} on the similar task, {b.text()} on the dissimilar one"
    scratch = spread(dissimilar_scratch)
    if scratch.n and scratch.mean > 1 - GAIN_THRESHOLD:
        return (f"These runs cannot tell whether similarity matters ({said}): scratch alone "
                f"scored {scratch.mean:.0%} on the dissimilar task, so no gain above "
                f"{100 * GAIN_THRESHOLD:.0f} points was possible there. That task is easy, "
                "not a test of similarity: compare on a harder dissimilar task.")
    if diff > SIMILARITY_THRESHOLD:
        firm = a.low > b.high
        return (f"Transfer helped more when the new task looks like the old one: {said}, "
                f"a difference above {limit}"
                + ("." if firm else "; but the seeds' ranges overlap, so run more seeds."))
    if diff < -SIMILARITY_THRESHOLD:
        return (f"Here transfer helped MORE on the dissimilar task ({said}), against the "
                "textbook. Possible causes: scratch happened to learn the similar task well, "
                "few seeds, or the 'dissimilar' task shares low-level features with shapes.")
    return (f"Transfer helped about as much on both tasks ({said}; within {limit}). Possible "
            "causes: generic low-level features (edges, colour) carry over to both, or too "
            "few seeds to tell.")


def drop_sentence(drop: float, learning_rate: float) -> str:
    """The fall of validation accuracy in the first epochs of phase 3."""
    if drop != drop:
        return ""
    limit = f"{DROP_THRESHOLD:.0%}".replace("%", " points")
    if drop > DROP_THRESHOLD:
        return (f"When phase 3 started, validation accuracy fell by {100 * drop:.0f} points "
                f"(more than "
                f"{limit}): at learning rate {learning_rate:g} the first updates damaged "
                "the pretrained features the head relied on.")
    return (f"Phase 3 at learning rate {learning_rate:g} did not damage what phase 2 had "
            f"learnt: validation accuracy fell by {100 * max(drop, 0.0):.0f} points at most, "
            f"under "
            f"{limit}.")


def batchnorm_sentence(change: float) -> str:
    """Whether fine-tuning left BatchNorm's moving statistics as they were."""
    if change == 0:
        return ("BatchNorm moving statistics unchanged (largest change 0): the frozen "
                "BatchNorm layers ran in inference mode.")
    return (f"BatchNorm moving statistics moved by up to {change:.3g}: some BatchNorm layer "
            "was trainable, so it followed the new images' batches instead of keeping the "
            "pretrained statistics.")


def gains_by_size(results: Iterable) -> dict[str, dict[int, list[float]]]:
    """{target: {images per class: [gain of each seed]}} from complete transfer results
    that include scratch (one per seed)."""
    out: dict[str, dict[int, list[float]]] = {}
    seen = set()
    for result in results:
        s = result.settings
        if result.scratch is None or not result.complete or (s.target, s.n_train, s.seed) in seen:
            continue
        seen.add((s.target, s.n_train, s.seed))
        gain = result.transfer.final_val_accuracy - result.scratch.final_val_accuracy
        out.setdefault(s.target, {}).setdefault(s.n_train, []).append(gain)
    return {target: dict(sorted(sizes.items())) for target, sizes in out.items()}


def catch_up_sentence(gains: dict[int, Sequence[float]]) -> str:
    """From gains per training-set size: from which size on scratch has caught up (the
    mean gain within the threshold at that size and every larger one)."""
    if len(gains) < 2:
        return ""
    sizes = sorted(gains)
    means = {n: spread(gains[n]).mean for n in sizes}
    limit = f"{GAIN_THRESHOLD:.0%}".replace("%", " points")
    first, last = spread(gains[sizes[0]]), spread(gains[sizes[-1]])
    ends = f"{first.text()} at {sizes[0]}, {last.text()} at {sizes[-1]} images per class"
    caught = [n for i, n in enumerate(sizes) if all(means[m] <= GAIN_THRESHOLD
                                                    for m in sizes[i:])]
    if not caught:
        if last.mean > first.mean:
            return (f"The gain did not shrink with more images ({ends}), against the "
                    "textbook. Possible causes: few seeds, or scratch (BatchNorm learning its "
                    "statistics from few batches) still far from converged at every size.")
        return (f"At every size measured transfer kept a mean gain above {limit} ({ends}): "
                "scratch has not caught up yet.")
    if caught[0] == sizes[0]:
        return (f"At every size measured the mean gain stayed within {limit} ({ends}): this "
                "task gives transfer little to add.")
    return f"Scratch caught up (mean gain within {limit}) from {caught[0]} images per class: " \
           f"{ends}."
