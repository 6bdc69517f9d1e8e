"""Lessons: a lecturer's walk through the app, one small TOML file each.

A lesson lists steps. A step opens a page in a given view (``state``: the
page's query parameters), asks a question the page answers by measuring it,
and says what to notice once the answer is out::

    title = "Pooling in two steps"
    about = "Optional: one line on what the lesson is for."

    [[steps]]
    page = "Pooling_and_Receptive_Fields"   # the page's name in its URL
    title = "Pooling"                       # optional, for the step list
    state = { pool_size = "3" }             # optional, the page's query parameters
    notice = "Each 3x3 window keeps one number: the map is a third as wide."

    [steps.question]                        # optional
    kind = "number"                         # "choice", "number" or "click"
    prompt = "How wide is the map after pooling?"  # optional with an id: the page's words
    id = "pool_width"                       # the page's question that measures it
    tolerance = 0                           # number and click only
    unit = "pixels"                         # number only
    # options = ["...", "..."]              # choice only, at least two

Without ``id`` the question is asked in the lesson's bar and counted in the
class poll; the page shows its answer but does not compare it. With ``id`` the
page asks it where its result would appear, hides that result until the student
answers, and compares the two. A ``click`` question needs an ``id`` (the page
provides the image to click).

:func:`parse_lesson` checks every field and raises one ``LessonError`` listing
each bad field with the file, the step number and what was expected.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cnnviz.errors import LessonError
from cnnviz.questions import KINDS, Question

#: Query parameters the lesson itself uses; a step's state cannot set them.
LESSON_PARAMS = ("lesson", "step", "class", "teach")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_PARAM = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_QUESTION_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")

_LESSON_FIELDS = {"title": "a short text", "about": "a text (optional)",
                  "steps": "a list of [[steps]] tables"}
_STEP_FIELDS = {"page": "the page's name in its URL", "title": "a short text (optional)",
                "state": "a table of query parameters (optional)",
                "notice": "what to notice, a text", "question": "a [steps.question] table"}
_QUESTION_FIELDS = {"kind": "choice, number or click", "prompt": "the question, a text",
                    "id": "the id of the page's question that measures the answer",
                    "options": "a list of texts (choice only)",
                    "tolerance": "a number >= 0 (number and click only)",
                    "unit": "a text (number only)"}


@dataclass(frozen=True)
class StepQuestion:
    """A step's question as the lesson words it; the page measures the answer."""

    kind: str
    prompt: str  # "" keeps the page's own wording (only with an id)
    id: str | None = None
    options: tuple[str, ...] = ()
    tolerance: float | None = None
    unit: str | None = None

    def applied_to(self, question: Question) -> Question:
        """The page's question asked in the lesson's words."""
        return question.adapted(prompt=self.prompt or None, options=self.options or None,
                                tolerance=self.tolerance, unit=self.unit)

    def as_question(self, fallback_id: str) -> Question:
        """This question on its own, for the lesson bar (no page measures it)."""
        return Question(self.id or fallback_id, self.kind, self.prompt, self.options,
                        self.tolerance or 0.0, self.unit or "")


@dataclass(frozen=True)
class Step:
    number: int  # 1-based, as students see it
    page: str  # the page's name in its URL, e.g. "Pooling_and_Receptive_Fields"
    notice: str
    title: str = ""
    state: Mapping[str, str] = field(default_factory=dict)
    question: StepQuestion | None = None


@dataclass(frozen=True)
class Lesson:
    name: str  # the file's stem; the URL's ?lesson=
    title: str
    steps: tuple[Step, ...]
    about: str = ""

    def step(self, number: int) -> Step:
        """Step ``number`` (1-based), clamped to the lesson."""
        return self.steps[min(max(int(number), 1), len(self.steps)) - 1]


def _text(value) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _describe(value) -> str:
    shown = json.dumps(value, default=str, ensure_ascii=False)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def _state_value(value) -> str | None:
    """A query parameter's value as text, or None if it cannot be one."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float) and math.isfinite(value):
        return str(value)
    if isinstance(value, str):
        return value
    return None


def parse_lesson(text: str, *, name: str, source: str | None = None,
                 pages: Collection[str] | None = None) -> Lesson:
    """Read a lesson from its TOML text; ``pages`` are the page names a step may open.

    Raises ``LessonError`` with one line per bad field.
    """
    source = source or f"{name}.toml"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise LessonError([f"{source}: not valid TOML: {error}"]) from None
    problems: list[str] = []

    def bad(where: str, field_name: str, expected: str, value) -> None:
        problems.append(f"{source}, {where}{field_name}: expected {expected}, got "
                        f"{_describe(value)}.")

    if not _NAME.match(name):
        problems.append(f"{source}: the file name must be lower-case letters, digits, - or _ "
                        f"(it becomes ?lesson= in links), got {name!r}.")
    for key in sorted(set(data) - set(_LESSON_FIELDS)):
        problems.append(f"{source}: unknown field {key!r}; a lesson has "
                        f"{', '.join(_LESSON_FIELDS)}.")
    title = data.get("title")
    if not _text(title):
        bad("", "title", _LESSON_FIELDS["title"], title)
    about = data.get("about", "")
    if not isinstance(about, str):
        bad("", "about", _LESSON_FIELDS["about"], about)
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        bad("", "steps", "at least one [[steps]] table", raw_steps)
        raw_steps = []
    steps = [_parse_step(n, raw, bad, problems, source, pages)
             for n, raw in enumerate(raw_steps, start=1)]
    if problems:
        raise LessonError(problems)
    return Lesson(name, title.strip(), tuple(steps), about.strip())


def _parse_step(number: int, raw, bad, problems: list[str], source: str,
                pages: Collection[str] | None) -> Step | None:
    where = f"step {number}, "
    if not isinstance(raw, dict):
        bad(where, "(the step)", "a table", raw)
        return None
    for key in sorted(set(raw) - set(_STEP_FIELDS)):
        problems.append(f"{source}, step {number}: unknown field {key!r}; a step has "
                        f"{', '.join(_STEP_FIELDS)}.")
    page = raw.get("page")
    if not _text(page):
        bad(where, "page", _STEP_FIELDS["page"], page)
    elif pages is not None and page not in pages:
        bad(where, "page", "one of " + ", ".join(sorted(pages)), page)
    notice = raw.get("notice")
    if not _text(notice):
        bad(where, "notice", _STEP_FIELDS["notice"], notice)
    title = raw.get("title", "")
    if not isinstance(title, str):
        bad(where, "title", _STEP_FIELDS["title"], title)
    state = {}
    raw_state = raw.get("state", {})
    if not isinstance(raw_state, dict):
        bad(where, "state", _STEP_FIELDS["state"], raw_state)
        raw_state = {}
    for key, value in raw_state.items():
        if not _PARAM.match(key):
            bad(where, f"state.{key}", "a short name: lower-case letters, digits and _", key)
        elif key in LESSON_PARAMS:
            bad(where, f"state.{key}", "a name the lesson does not use itself ("
                + ", ".join(LESSON_PARAMS) + ")", key)
        elif (text := _state_value(value)) is None:
            bad(where, f"state.{key}", "a text, number or true/false", value)
        else:
            state[key] = text
    question = None
    if "question" in raw:
        question = _parse_question(raw["question"], where, bad, problems, source, number)
    if not isinstance(page, str) or not isinstance(notice, str) or not isinstance(title, str):
        return None
    return Step(number, page.strip(), notice.strip(), title.strip(), state, question)


def _parse_question(raw, where: str, bad, problems: list[str], source: str,
                    number: int) -> StepQuestion | None:
    where = where + "question."
    if not isinstance(raw, dict):
        bad(where[:-1], "", "a [steps.question] table", raw)
        return None
    for key in sorted(set(raw) - set(_QUESTION_FIELDS)):
        problems.append(f"{source}, step {number}, question: unknown field {key!r}; a question "
                        f"has {', '.join(_QUESTION_FIELDS)}.")
    kind, prompt = raw.get("kind"), raw.get("prompt")
    if kind not in KINDS:
        bad(where, "kind", _QUESTION_FIELDS["kind"], kind)
    qid = raw.get("id")
    if not _text(prompt) and not (qid is not None and prompt is None):
        bad(where, "prompt", _QUESTION_FIELDS["prompt"] + " (it may be left out when an id "
            "names the page's question)", prompt)
    if qid is not None and not (isinstance(qid, str) and _QUESTION_ID.match(qid)):
        bad(where, "id", "a page question's id: lower-case letters, digits and _", qid)
    if kind in KINDS:  # the other fields depend on the kind
        _check_kind_fields(raw, kind, qid, where, bad)
    if kind not in KINDS or not isinstance(prompt, str | None):
        return None
    options, tolerance = raw.get("options") or (), raw.get("tolerance")
    return StepQuestion(kind, (prompt or "").strip(), qid,
                        tuple(options) if kind == "choice" else (),
                        None if tolerance is None else float(tolerance), raw.get("unit"))


def _check_kind_fields(raw, kind: str, qid, where: str, bad) -> None:
    if kind == "click" and qid is None:
        bad(where, "id", "the id of the page's click question (the page shows the image "
            "to click)", qid)
    options = raw.get("options")
    if kind == "choice":
        if (not isinstance(options, list) or len(options) < 2
                or not all(_text(o) for o in options) or len(set(options)) != len(options)):
            bad(where, "options", "a list of at least two different texts for a choice "
                "question", options)
    elif options is not None:
        bad(where, "options", f"no options for a {kind} question", options)
    tolerance = raw.get("tolerance")
    if tolerance is not None:
        if kind == "choice":
            bad(where, "tolerance", "no tolerance for a choice question", tolerance)
        elif (isinstance(tolerance, bool) or not isinstance(tolerance, int | float)
              or not math.isfinite(tolerance) or tolerance < 0):
            bad(where, "tolerance", _QUESTION_FIELDS["tolerance"], tolerance)
    unit = raw.get("unit")
    if unit is not None and (kind != "number" or not isinstance(unit, str)):
        bad(where, "unit", _QUESTION_FIELDS["unit"], unit)


def load_lesson(path: str | Path, pages: Collection[str] | None = None) -> Lesson:
    """Read and check the lesson file at ``path`` (see :func:`parse_lesson`)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise LessonError([f"{path.name}: cannot be read ({error})."]) from None
    return parse_lesson(text, name=path.stem, source=path.name, pages=pages)


def lesson_files(folder: str | Path) -> dict[str, Path]:
    """The lesson files in ``folder`` by lesson name, in name order."""
    folder = Path(folder)
    return {p.stem: p for p in sorted(folder.glob("*.toml"))} if folder.is_dir() else {}


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a TOML basic string


def step_toml(page: str, state: Mapping[str, str], *, notice: str = "",
              question: Question | None = None, title: str = "") -> str:
    """A ``[[steps]]`` table for a lesson file: the text "save this view as a step" shows."""
    lines = ["[[steps]]", f"page = {_toml_value(page)}"]
    if title:
        lines.append(f"title = {_toml_value(title)}")
    kept = {k: v for k, v in state.items() if k not in LESSON_PARAMS and _PARAM.match(k)}
    if kept:
        lines.append("state = { " + ", ".join(f"{k} = {_toml_value(v)}"
                                              for k, v in kept.items()) + " }")
    lines.append(f"notice = {_toml_value(notice or 'What should the class notice here?')}")
    if question is not None:
        lines += ["", "[steps.question]", f"id = {_toml_value(question.id)}",
                  f"kind = {_toml_value(question.kind)}",
                  f"prompt = {_toml_value(question.prompt)}"]
        if question.kind == "choice":
            lines.append(f"options = {_toml_value(list(question.options))}")
        elif question.tolerance:
            lines.append(f"tolerance = {_toml_value(question.tolerance)}")
        if question.kind == "number" and question.unit:
            lines.append(f"unit = {_toml_value(question.unit)}")
    return "\n".join(lines) + "\n"
