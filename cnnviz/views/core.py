"""The machinery of views: parameters, parsing a query string, writing one back.

A page's spec (:class:`PageSpec`) is an ordered tuple of :class:`Param`. Parsing
walks it in order, so a parameter may depend on the ones before it (the patch's
top row depends on the patch size, which depends on the image). Anything that
is only known at run time (the models usable now, a model's layers, an image's
size) comes in a *context* mapping; a check that needs a fact the context does
not hold is skipped, so a lesson file can be checked without loading a model.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qs, urlencode

#: what a parameter holds; "choice" and "choices" take their values from ``valid``
KINDS = ("int", "float", "bool", "choice", "choices", "floats", "text")

#: parameters the whole app reads, not one page's view: the presenter switch and a
#: lesson's (``cnnviz.lessons.LESSON_PARAMS``: lesson, step, class code, lecturer). Pages
#: ignore them without a notice, the address bar keeps them, "Link to this view" leaves
#: them out.
APP_PARAMS = frozenset({"present", "lesson", "step", "class", "teach"})

Context = Mapping[str, Any]
Values = Mapping[str, Any]


@dataclass(frozen=True)
class Param:
    """One setting of a page, as it appears in the URL.

    ``default`` and ``valid`` are values, or functions ``(context, values)`` of the
    run-time facts and the parameters before this one. ``valid`` is ``(lo, hi)`` or
    ``(lo, hi, step)`` for numbers, the allowed values for a choice, the required
    length for "floats". A "text" value is read by ``decode`` (URL text -> the
    value, raising ValueError with the reason) and written by ``token``. ``when``
    says, from the values before it, whether the parameter applies at all (a Gabor
    angle only for the Gabor kernel). ``optional`` numbers may be ``None``, which
    means "computed" (the peak, the top class) and never appears in a URL.
    """

    name: str
    label: str
    kind: str
    default: Any = None
    valid: Any = None
    when: Callable[[Values], bool] | None = None
    token: Callable[[Any], str] | None = None  # a choice's text in the URL (default str)
    labels: Mapping[Any, str] | None = None  # what the student sees for each choice
    where: str = ""  # "a layer of {model}": the notice's words for the valid set
    optional: bool = False
    clamp: bool = True  # a number out of range: the nearest in range, or (False) the default
    decode: Callable[[str], Any] | None = None  # a "text" value from its URL text
    doc: str = ""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"{self.name}: kind {self.kind!r} is not one of {KINDS}")
        if not re.fullmatch(r"[a-z][a-z0-9_]*", self.name):
            raise ValueError(f"parameter name {self.name!r}: lower-case letters, digits, _")

    def text(self, value) -> str:
        """``value`` as it is written in the URL."""
        if self.kind == "bool":
            return "1" if value else "0"
        if self.kind == "float":
            return _number(value)
        if self.kind == "floats":
            return ",".join(_number(v) for v in value)
        if self.kind == "choices":
            return ",".join(self._token(v) for v in value)
        if self.kind in ("choice", "text"):
            return self._token(value)
        return str(int(value))

    def _token(self, value) -> str:
        return self.token(value) if self.token else str(value)

    def applies(self, values: Values) -> bool:
        return self.when is None or bool(self.when(values))


def _number(value) -> str:
    return f"{float(value):.10g}"


def slug(text: str) -> str:
    """A name written for a URL: 'cat (Chelsea)' -> 'cat-chelsea', 'Sobel x' -> 'sobel-x'."""
    return "-".join(re.findall(r"[a-z0-9]+", str(text).lower()))


@dataclass(frozen=True)
class PageSpec:
    """Every parameter of one page's view, in the order they are resolved."""

    page: str  # a short stable id: "convolution"
    path: str  # the page script: "pages/1_Convolution.py"
    title: str
    params: tuple[Param, ...]

    def __post_init__(self):
        names = [p.name for p in self.params]
        if len(names) != len(set(names)):
            raise ValueError(f"{self.page}: a parameter name is used twice in {names}")

    @property
    def url_name(self) -> str:
        """The page's URL path, as Streamlit derives it from the file name."""
        return re.sub(r"^\d+_", "", self.path.rsplit("/", 1)[-1].removesuffix(".py"))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    def param(self, name: str) -> Param:
        for param in self.params:
            if param.name == name:
                return param
        raise KeyError(f"{self.page} has no parameter {name!r}; it has {', '.join(self.names)}")


@dataclass(frozen=True)
class View:
    """One page's meaningful state: a value for every parameter that applies.

    ``defaults`` are the defaults in the context the view was resolved in (a
    model's default layer, the image's default patch), so :meth:`query` can leave
    them out and the link still opens the same view.
    """

    page: str
    values: Mapping[str, Any]
    defaults: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "values", MappingProxyType(dict(self.values)))
        object.__setattr__(self, "defaults", MappingProxyType(dict(self.defaults)))

    def __getitem__(self, name: str):
        return self.values[name]

    def __contains__(self, name: str) -> bool:
        return name in self.values

    def get(self, name: str, default=None):
        return self.values.get(name, default)

    def is_default(self, name: str) -> bool:
        return name in self.defaults and _same(self.values[name], self.defaults[name])

    def query(self) -> dict[str, str]:
        """The non-default values as URL text, in the spec's order."""
        from cnnviz.views import spec

        out = {}
        for param in spec(self.page).params:
            if param.name in self.values and not self.is_default(param.name) \
                    and self.values[param.name] is not None:
                out[param.name] = param.text(self.values[param.name])
        return out


def _same(a, b) -> bool:
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) or isinstance(b, float):
        try:
            return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
        except (TypeError, ValueError):
            return False
    return a == b


# ------------------------------------------------------------------ resolving
class _Missing(Exception):
    """A check needs a run-time fact the context does not hold: skip it."""


class _Facts(Mapping):
    """The context as the spec's functions see it: a missing fact skips the check."""

    def __init__(self, context: Context):
        self._context = context

    def __getitem__(self, key):
        try:
            return self._context[key]
        except KeyError:
            raise _Missing(key) from None

    def __iter__(self):
        return iter(self._context)

    def __len__(self):
        return len(self._context)


def _evaluate(rule, facts, values):
    return rule(facts, values) if callable(rule) else rule


def _show(param: Param, value) -> str:
    if value is None:
        return "the computed default"
    if param.kind in ("choices", "floats"):
        return ", ".join(param._token(v) if param.kind == "choices" else _number(v)
                         for v in value) or "none"
    if param.kind == "choice":
        return f"'{param._token(value)}'"
    if param.kind == "text" and param.labels and value in param.labels:
        return param.labels[value]
    return param.text(value)


def _where(param: Param, facts, values, valid) -> str:
    if param.where:
        try:
            return param.where.format(**{**dict(facts), **dict(values)})
        except (KeyError, IndexError, _Missing):
            pass
    if param.kind in ("int", "float"):
        return f"between {_show(param, valid[0])} and {_show(param, valid[1])}"
    shown = [param._token(v) for v in valid]
    more = f", … ({len(shown)} in all)" if len(shown) > 8 else ""
    return "one of " + ", ".join(shown[:8]) + more


def _from_text(param: Param, text: str, valid):
    """URL text -> a typed value (raises ValueError with a short reason)."""
    text = text.strip()
    if param.kind == "int":
        if not re.fullmatch(r"-?\d+(\.0*)?", text):
            _bad("a whole number")
        return int(text.split(".")[0])
    if param.kind == "float":
        value = float(text)
        return value if math.isfinite(value) else _bad("a finite number")
    if param.kind == "bool":
        lowered = text.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        return _bad("1 or 0")
    if param.kind == "floats":
        try:
            values = tuple(float(v) for v in text.split(",") if v.strip())
        except ValueError:
            return _bad("numbers separated by commas")
        return values if all(map(math.isfinite, values)) else _bad("finite numbers")
    if param.kind == "choices":
        return tuple(_match(param, part, valid) for part in text.split(",") if part.strip())
    if param.kind == "text":
        return param.decode(text) if param.decode else text
    return _match(param, text, valid)


def _bad(expected: str):
    raise ValueError(f"not {expected}")


def _match(param: Param, text: str, valid):
    """The valid value whose URL text (or plain text) is ``text``, ignoring case; else
    ``text`` itself (it is reported as not valid later, or kept when nothing is known)."""
    text = text.strip()
    if valid is None:
        return text
    for wanted in (text, text.lower()):
        for value in valid:
            if param._token(value) == wanted or str(value) == wanted:
                return value
    for value in valid:
        if param._token(value).lower() == text.lower() or str(value).lower() == text.lower():
            return value
    return text


def _check(param: Param, value, default, valid, facts, values) -> tuple[Any, str | None]:
    """The nearest valid value to ``value`` and, when it had to change, why."""
    if value is None and param.optional:
        return None, None
    if valid is None or param.kind == "bool":
        return value, None
    if param.kind in ("int", "float"):
        lo, hi = valid[0], valid[1]
        step = valid[2] if len(valid) > 2 else None
        if hi < lo:
            return default, None  # nothing fits (e.g. no output): the page will say why
        if not param.clamp and not lo <= value <= hi:
            return default, (f"{param.label} {_show(param, value)} is not "
                             f"{_where(param, facts, values, valid)}; showing "
                             f"{_show(param, default)}")
        near = min(max(value, lo), hi)
        if step:
            near = lo + round((near - lo) / step) * step
            # the last step at or below hi, counted with a float's round-off in mind
            near = min(near, lo + math.floor((hi - lo) / step + 1e-9) * step)
        near = int(near) if param.kind == "int" else float(near)
        if _same(near, value):
            return value, None
        reason = "is not on the slider's steps" if lo <= value <= hi else \
            f"is not {_where(param, facts, values, valid)}"
        return near, f"{param.label} {_show(param, value)} {reason}; showing {_show(param, near)}"
    if param.kind == "floats":
        if len(value) == valid:
            return value, None
        return default, (f"{param.label} has {len(value)} numbers, not {valid}; showing "
                         f"{_show(param, default)}")
    if param.kind == "choices":
        kept = tuple(dict.fromkeys(v for v in value if v in valid))
        dropped = [v for v in value if v not in valid]
        if not dropped:
            return kept, None
        names = ", ".join(f"'{param._token(v)}'" for v in dropped)
        verb = "is" if len(dropped) == 1 else "are"
        where = _where(param, facts, values, valid)
        if kept:
            return kept, f"{param.label}: {names} {verb} not {where}; left out"
        return default, (f"{param.label}: {names} {verb} not {where}; showing "
                         f"{_show(param, default)}")
    if value in valid:
        return value, None
    return default, (f"{param.label} '{value}' is not {_where(param, facts, values, valid)}; "
                     f"showing {_show(param, default)}")


def _rules(param: Param, facts, values) -> tuple[Any, Any]:
    """The parameter's (default, valid set) now; None for what the context cannot tell."""
    out = []
    for rule in (param.default, param.valid):
        try:
            out.append(_evaluate(rule, facts, values))
        except _Missing:
            out.append(None)
    return out[0], out[1]


def check(param: Param, value, context: Context | None, values: Values) -> tuple[Any, Any]:
    """(the nearest valid value to ``value``, the default) for one parameter, given the
    values before it: keeps a widget valid when what it depends on changed."""
    facts = _Facts(context or {})
    default, valid = _rules(param, facts, values)
    if value is None:
        return default, default
    return _check(param, value, default, valid, facts, values)[0], default


def resolve(spec: PageSpec, given: Mapping[str, Any], context: Context | None = None, *,
            texts: bool = False) -> tuple[View, list[str]]:
    """The nearest valid view to ``given`` (typed values, or URL texts with ``texts``),
    and one line per value that was changed or ignored."""
    facts = _Facts(context or {})
    notices = []
    known = set(spec.names)
    for name in given:
        if name not in known and name not in APP_PARAMS:
            notices.append(f"'{name}' is not a setting of the {spec.title} page; ignored")
    values: dict[str, Any] = {}
    defaults: dict[str, Any] = {}
    for param in spec.params:
        if not param.applies(values):
            if param.name in given:
                notices.append(f"{param.label} does not apply to this view; ignored")
            continue
        default, valid = _rules(param, facts, values)
        value = default
        if param.name in given:
            raw = given[param.name]
            if texts or param.kind == "text":  # a typed text is checked like a link's
                raw = raw[-1] if isinstance(raw, (list, tuple)) and param.kind != "choices" \
                    else raw
                if isinstance(raw, (list, tuple)):
                    raw = ",".join(raw)
                try:
                    raw = _from_text(param, str(raw), valid)
                except ValueError as error:
                    said = ":" if param.kind == "text" else f" '{given[param.name]}' is"
                    notices.append(f"{param.label}{said} {error}; showing "
                                   f"{_show(param, default)}")
                    raw = default
            value, notice = _check(param, raw, default, valid, facts, values)
            if notice:
                notices.append(notice)
        if param.kind == "choices" and value is not None:
            value = tuple(value)
        values[param.name] = value
        defaults[param.name] = default
    return View(spec.page, values, defaults), notices


def parse_query(query: str | Mapping[str, Any]) -> dict[str, Any]:
    """A query string ('?a=1&b=2' or 'a=1&b=2') or mapping -> {name: text}."""
    if isinstance(query, Mapping):
        return dict(query)
    pairs = parse_qs(query.lstrip("?"), keep_blank_values=True)
    return {key: values[-1] if len(values) == 1 else values for key, values in pairs.items()}


def encode(query: Mapping[str, str]) -> str:
    """{name: text} -> 'a=1&b=x,y' (commas stay readable)."""
    return urlencode(list(query.items()), safe=",")


def table(specs: Sequence[PageSpec]) -> str:
    """A Markdown table of every page's parameters (``docs/views.md`` is made from it)."""
    lines = []
    for page in specs:
        lines += [f"## {page.title} (`/{page.url_name}`)", "",
                  "| parameter | what | values | default |", "|---|---|---|---|"]
        for p in page.params:
            lines.append(f"| `{p.name}` | {p.label}{': ' + p.doc if p.doc else ''} | "
                         f"{_describe_valid(p)} | {_describe_default(p)} |")
        lines.append("")
    return "\n".join(lines)


def _describe_valid(p: Param) -> str:
    if p.kind == "bool":
        return "`1` or `0`"
    if p.kind == "text":
        return p.where or "any text"
    if p.valid is None:
        return "any"
    if callable(p.valid):
        try:  # a list that needs no run-time fact is written out
            valid = p.valid(_Facts({}), {})
        except (_Missing, KeyError):
            return re.sub(r"\{(\w+)\}", r"the \1", p.where) or "depends on the view"
        return _describe_valid(Param(p.name, p.label, p.kind, valid=valid, token=p.token))
    if p.kind in ("int", "float"):
        step = f", step {p.valid[2]}" if len(p.valid) > 2 else ""
        return f"{p.valid[0]} to {p.valid[1]}{step}"
    if p.kind == "floats":
        return f"{p.valid} numbers, comma-separated"
    shown = ", ".join(f"`{p._token(v)}`" for v in p.valid)
    return shown + (" (comma-separated list)" if p.kind == "choices" else "")


def _describe_default(p: Param) -> str:
    if callable(p.default):
        return (p.default.__doc__ or "computed").strip()
    if p.default is None:
        return "computed" if p.optional else "—"
    return f"`{p.text(p.default)}`"
