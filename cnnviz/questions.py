"""Predict, then reveal: questions whose answer a page measures live.

A student commits to an answer before the page shows its result; then the page
shows the answer beside the measurement and one sentence on the gap, computed
from both. The correct answer is never written down anywhere: the page measures
it from its current state (the layer's output size, the peak of a map, the
share of zeros) and hands it over as a :class:`Measured`.

Three kinds of question:

- ``"choice"``: pick one of ``options``; the page measures which one holds.
- ``"number"``: type a number; right within ``tolerance`` of the measurement.
- ``"click"``: click a pixel of an image; the page measures a heat map of the
  same size. Right inside the map's hot region (at least :data:`HOT_SHARE` of its
  maximum) or within ``tolerance`` pixels of its peak.

Example::

    question = number("pool_width", "How many pixels wide is the map after pooling?",
                      unit="pixels")
    measured = Measured(pooled.shape[1], why="(62 - 2) // 2 + 1 = 31 windows fit")
    verdict = score(question, 30, measured)
    verdict.correct, verdict.sentence
    # (False, 'You said 30 pixels, 1 fewer than the measured 31 pixels: (62 - 2) // 2 + 1 = 31
    #  windows fit.')
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

KINDS = ("choice", "number", "click")
#: A click is in the hot region where the measured map reaches this share of its maximum.
HOT_SHARE = 0.5
_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


@dataclass(frozen=True)
class Question:
    """A question a page asks before it shows the result that answers it.

    ``id`` is short and stable (lessons and the class poll refer to it);
    ``tolerance`` is the allowed absolute error of a number, or the distance in
    pixels from the peak a click may be; ``unit`` names a number's unit.
    """

    id: str
    kind: str
    prompt: str
    options: tuple[str, ...] = ()
    tolerance: float = 0.0
    unit: str = ""

    def __post_init__(self):
        if not _ID.match(self.id):
            raise ValueError(f"A question id is 1-40 lower-case letters, digits or _, "
                             f"starting with a letter; got {self.id!r}.")
        if self.kind not in KINDS:
            raise ValueError(f"A question's kind is one of {', '.join(KINDS)}; "
                             f"got {self.kind!r}.")
        if not self.prompt.strip():
            raise ValueError(f"Question {self.id!r} has an empty prompt.")
        if self.kind == "choice" and (len(self.options) < 2
                                      or len(set(self.options)) != len(self.options)):
            raise ValueError(f"Choice question {self.id!r} needs at least two different "
                             f"options; got {list(self.options)}.")
        if self.kind != "choice" and self.options:
            raise ValueError(f"Only a choice question has options ({self.id!r} is a "
                             f"{self.kind} question).")
        if not (math.isfinite(self.tolerance) and self.tolerance >= 0):
            raise ValueError(f"Question {self.id!r}: tolerance must be a number >= 0; "
                             f"got {self.tolerance!r}.")

    def adapted(self, *, prompt: str | None = None, options=None,
                tolerance: float | None = None, unit: str | None = None) -> Question:
        """The same question asked in other words (a lesson's prompt, options, tolerance)."""
        changes = {name: value for name, value in (
            ("prompt", prompt), ("options", None if options is None else tuple(options)),
            ("tolerance", None if tolerance is None else float(tolerance)), ("unit", unit))
            if value is not None}
        return replace(self, **changes)


def choice(id: str, prompt: str, options) -> Question:
    """A multiple-choice question: the page measures which option holds."""
    return Question(id, "choice", prompt, tuple(options))


def number(id: str, prompt: str, *, unit: str = "", tolerance: float = 0.0) -> Question:
    """A number to type: right when within ``tolerance`` of the measurement."""
    return Question(id, "number", prompt, tolerance=float(tolerance), unit=unit)


def click(id: str, prompt: str, *, tolerance: float = 0.0) -> Question:
    """A pixel to click: right inside the measured hot region or near its peak."""
    return Question(id, "click", prompt, tolerance=float(tolerance))


@dataclass(frozen=True)
class Measured:
    """The page's live measurement that answers a question.

    ``value``: the option that holds (choice), the number (number), or a 2-D heat
    map the size of the clicked image (click). ``why``: one clause, computed from
    the page's state, that says how that value comes about ("padding 'valid'
    loses k-1 = 2 pixels"). ``text``: how to show the value, if not as it is
    ("28x28").
    """

    value: object
    why: str
    text: str | None = None


@dataclass(frozen=True)
class Verdict:
    """A student's answer beside the measurement, and the sentence on the gap."""

    correct: bool
    answer: str  # the student's answer as shown
    measured: str  # the measured answer as shown
    sentence: str


def format_number(value: float) -> str:
    """28.0 -> "28", 0.25 -> "0.25", 1234567 -> "1,234,567"."""
    value = float(value)
    if value.is_integer():
        return f"{int(value):,}"
    return f"{value:,.4g}" if abs(value) < 1e4 else f"{value:,.0f}"


def pixels(distance: float) -> str:
    """A distance in whole pixels, in words: "1 pixel", "5 pixels"."""
    n = int(round(distance))
    return f"{n} pixel" if n == 1 else f"{n} pixels"


def _with_unit(text: str, unit: str) -> str:
    return f"{text} {unit}" if unit else text


def _sentence(head: str, why: str) -> str:
    why = why.strip().rstrip(".")
    return f"{head}: {why}." if why else f"{head}."


def score(question: Question, answer, measured: Measured) -> Verdict:
    """Compare a student's answer with the page's measurement.

    ``answer``: an option (choice), a number (number), or (row, col) in the
    pixels of the clicked image (click).
    """
    if question.kind == "choice":
        return _score_choice(question, str(answer), measured)
    if question.kind == "number":
        return _score_number(question, float(answer), measured)
    return _score_click(question, answer, measured)


def _score_choice(question: Question, answer: str, measured: Measured) -> Verdict:
    truth = str(measured.value)
    shown = measured.text or truth
    if answer == truth:
        head = f"You chose “{answer}”, and that is what the page measures"
    elif truth not in question.options:
        head = (f"You chose “{answer}”; the page measures “{shown}”, which is none of "
                "the options")
    else:
        head = f"You chose “{answer}”, but the page measures “{shown}”"
    return Verdict(answer == truth, answer, shown, _sentence(head, measured.why))


def _score_number(question: Question, answer: float, measured: Measured) -> Verdict:
    truth = float(measured.value)
    unit = question.unit
    said, shown = _with_unit(format_number(answer), unit), measured.text or _with_unit(
        format_number(truth), unit)
    gap = answer - truth
    correct = abs(gap) <= question.tolerance + 1e-9
    if gap == 0:
        head = f"You said {said}, exactly the measured {shown}"
    elif correct:
        head = (f"You said {said}, within ±{format_number(question.tolerance)} of the "
                f"measured {shown}")
    else:
        counted = truth.is_integer() and answer.is_integer()
        direction = "more" if gap > 0 else "fewer" if counted else "less"
        head = f"You said {said}, {format_number(abs(gap))} {direction} than the measured {shown}"
        if truth and answer:
            head += _ratio_words(answer / truth)
    return Verdict(correct, said, shown, _sentence(head, measured.why))


def _ratio_words(ratio: float) -> str:
    """A note such as " (twice the measurement)" when the answer is off by a factor."""
    if ratio < 0:
        return " (and of the opposite sign)"
    if 1 / 1.5 < ratio < 1.5:
        return ""
    if abs(ratio - 2) < 0.05:
        return " (twice the measurement)"
    if abs(ratio - 0.5) < 0.0125:
        return " (half the measurement)"
    if ratio > 1:
        return f" ({format_number(round(ratio, 1))} times the measurement)"
    return f" ({format_number(round(1 / ratio, 1))} times too small)"


def hot_region(heat: np.ndarray) -> np.ndarray:
    """Pixels of a heat map at least :data:`HOT_SHARE` of its maximum (none if it is flat 0)."""
    heat = np.nan_to_num(np.asarray(heat, dtype=np.float64))
    top = heat.max() if heat.size else 0.0
    if top <= 0:
        return np.zeros(heat.shape, bool)
    return heat >= HOT_SHARE * top


def peak(heat: np.ndarray) -> tuple[int, int]:
    """(row, col) of a heat map's maximum (the first one if several tie)."""
    heat = np.nan_to_num(np.asarray(heat, dtype=np.float64))
    row, col = np.unravel_index(int(np.argmax(heat)), heat.shape)
    return int(row), int(col)


def _score_click(question: Question, answer, measured: Measured) -> Verdict:
    heat = np.asarray(measured.value, dtype=np.float64)
    if heat.ndim != 2:
        raise ValueError(f"A click question is measured by a 2-D heat map; got shape "
                         f"{heat.shape}.")
    row, col = (int(round(v)) for v in answer)
    if not (0 <= row < heat.shape[0] and 0 <= col < heat.shape[1]):
        raise ValueError(f"The click ({row}, {col}) is outside the {heat.shape[0]}x"
                         f"{heat.shape[1]} map it is scored on.")
    said = f"row {row}, col {col}"
    hot = hot_region(heat)
    if not hot.any():
        return Verdict(False, said, "no hot region",
                       _sentence(f"You clicked {said}, but the measured map is 0 everywhere, "
                                 "so no pixel stands out", measured.why))
    top = peak(heat)
    distance = math.hypot(row - top[0], col - top[1])
    inside = bool(hot[row, col])
    near = distance <= question.tolerance
    shown = measured.text or f"peak at row {top[0]}, col {top[1]}"
    away = f"{pixels(distance)} from the measured peak (row {top[0]}, col {top[1]})"
    if inside:
        head = f"You clicked {said}, inside the hot region, {away}"
    elif near:
        head = f"You clicked {said}, just outside the hot region but {away}"
    else:
        head = (f"You clicked {said}, outside the hot region (where the map reaches "
                f"{HOT_SHARE:.0%} of its maximum), {away}")
    return Verdict(inside or near, said, shown, _sentence(head, measured.why))


# ------------------------------------------------------------------------ the class poll
REGIONS = (("top left", "top", "top right"), ("left", "centre", "right"),
           ("bottom left", "bottom", "bottom right"))


def region_of(row: float, col: float, shape) -> str:
    """Which ninth of an image a pixel lies in: "top left" ... "bottom right"."""
    h, w = shape[:2]
    r = min(2, max(0, int(3 * row / h)))
    c = min(2, max(0, int(3 * col / w)))
    return REGIONS[r][c]


def poll_answer(question: Question, answer, shape=None) -> str:
    """An answer as the class poll counts it: the option, the number as text, or
    for a click the ninth of the image it fell in (``shape`` is the image's)."""
    if question.kind == "choice":
        return str(answer)
    if question.kind == "number":
        return format_number(float(answer))
    if shape is None:
        raise ValueError("A click is counted by its region: pass the image's shape.")
    return region_of(*answer, shape)


def measured_poll_answer(question: Question, measured: Measured) -> str:
    """The measured answer in the poll's terms, to mark its bar in the histogram."""
    if question.kind == "click":
        heat = np.asarray(measured.value)
        return region_of(*peak(heat), heat.shape)
    return poll_answer(question, measured.value)


def class_sentence(question: Question, tally: Mapping[str, int], measured: Measured) -> str:
    """One sentence on the gap between a class's answers and the measurement."""
    total = sum(tally.values())
    truth = measured_poll_answer(question, measured)
    shown = measured.text or truth
    if total == 0:
        return _sentence(f"No answers yet; the page measures {shown}", measured.why)
    right = _poll_matches(question, tally, truth)
    head = f"{right} of {total} answers ({right / total:.0%}) match the measured {shown}"
    wrong = {a: n for a, n in tally.items() if not _poll_match(question, a, truth)}
    if wrong:
        common = max(wrong, key=lambda a: (wrong[a], a))
        head += f"; the most common other answer was {common} ({wrong[common]})"
    return _sentence(head, measured.why)


def _poll_match(question: Question, answer: str, truth: str) -> bool:
    if question.kind == "number":
        try:
            return abs(float(answer.replace(",", "")) - float(truth.replace(",", ""))) \
                <= question.tolerance + 1e-9
        except ValueError:
            return False
    return answer == truth


def _poll_matches(question: Question, tally: Mapping[str, int], truth: str) -> int:
    return sum(n for a, n in tally.items() if _poll_match(question, a, truth))


def poll_order(question: Question, tally: Mapping[str, int]) -> list[str]:
    """The answers of a tally in the order a histogram shows them: options in their
    order, numbers ascending, regions top left to bottom right."""
    if question.kind == "choice":
        known = [o for o in question.options if o in tally]
        return known + sorted(a for a in tally if a not in question.options)
    if question.kind == "number":
        def key(answer: str):
            try:
                return (0, float(answer.replace(",", "")))
            except ValueError:
                return (1, 0.0)
        return sorted(tally, key=key)
    flat = [r for row in REGIONS for r in row]
    return sorted(tally, key=lambda a: flat.index(a) if a in flat else len(flat))
