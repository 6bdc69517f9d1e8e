"""A network as one line of text, for links: ``64x64x3,conv-16,maxpool-2,dense-5-linear``
(the input size, then a token per layer: its kind, its main number, and only the
settings that differ from the usual ones). ``parse_net`` checks every item against
``architecture.LIMITS`` and says what is wrong with each bad one."""

from __future__ import annotations

import re
from dataclasses import replace

from cnnviz.architecture import (
    ACTIVATIONS,
    INPUT_LIMITS,
    KINDS,
    LIMITS,
    PADDINGS,
    USED_FIELDS,
    LayerSpec,
)
from cnnviz.errors import CnnvizError

#: a network in a link: at most this many layers and characters
MAX_LAYERS = 40
MAX_NET_CHARS = 1500
#: the main number written right after a kind: filters/units, a pool's window, the rate
_MAIN = {"conv": "filters", "conv1x1": "filters", "inception": "filters", "residual": "filters",
         "dense": "filters", "maxpool": "kernel", "avgpool": "kernel", "dropout": "rate"}
_DEFAULT_LAYER = LayerSpec("conv")


def canonical(layer: LayerSpec) -> LayerSpec:
    """``layer`` with the fields its kind does not use set to their defaults: two layers
    that build the same Keras layer are equal."""
    used = USED_FIELDS.get(layer.kind, ())
    return replace(_DEFAULT_LAYER, **{name: getattr(layer, name) for name in ("kind", *used)})


def _layer_text(layer: LayerSpec) -> str:
    """One layer as a short token: 'conv-32-k5-s2-valid-tanh', 'maxpool-2', 'dropout-0.5'.

    The main number always; the others only when they differ from the usual
    value (a 3x3 kernel, stride 1, or a pool's stride equal to its window, 'same'
    padding, ReLU)."""
    used = USED_FIELDS[layer.kind]
    parts = [layer.kind]
    main = _MAIN.get(layer.kind)
    if main == "rate":
        parts.append(f"{layer.rate:.10g}")
    elif main:
        parts.append(str(getattr(layer, main)))
    if "kernel" in used and main != "kernel" and layer.kernel != 3:
        parts.append(f"k{layer.kernel}")
    usual_stride = layer.kernel if layer.kind in ("maxpool", "avgpool") else 1
    if "stride" in used and layer.stride != usual_stride:
        parts.append(f"s{layer.stride}")
    if "padding" in used and layer.padding != "same":
        parts.append(layer.padding)
    if "activation" in used and layer.activation != "relu":
        parts.append(layer.activation)
    return "-".join(parts)


def net_text(spec: list[LayerSpec], input_shape: tuple[int, int, int]) -> str:
    """The network as one line a link can carry: the input, then one token per layer.

    >>> net_text(architecture.PRESETS["LeNet-5"][1][:3], (32, 32, 1))
    '32x32x1,conv-6-k5-valid-tanh,avgpool-2,conv-16-k5-valid-tanh'

    :func:`parse_net` reads it back.
    """
    h, w, c = (int(v) for v in input_shape)
    return ",".join([f"{h}x{w}x{c}", *(_layer_text(layer) for layer in spec)])


def _in_range(name: str, value, limits) -> str | None:
    lo, hi = limits
    shown = value if isinstance(value, int) else f"{value:g}"
    return None if lo <= value <= hi else f"{name} {shown} is not between {lo:g} and {hi:g}"


def _parse_input(text: str) -> tuple[tuple[int, int, int], str | None]:
    match = re.fullmatch(r"(\d+)x(\d+)x(\d+)", text)
    if not match:
        return (0, 0, 0), (f"it starts with '{text}', not the input size "
                           "(height x width x channels, e.g. 64x64x3)")
    shape = tuple(int(v) for v in match.groups())
    for (name, limits), value in zip(INPUT_LIMITS.items(), shape):
        problem = _in_range(f"input {name}", value, limits)
        if problem:
            return shape, problem
    return shape, None


def _settings_words(kind: str) -> str:
    used = USED_FIELDS[kind]
    words = ["k<kernel>"] if "kernel" in used and _MAIN.get(kind) != "kernel" else []
    words += ["s<stride>"] if "stride" in used else []
    words += ["/".join(PADDINGS)] if "padding" in used else []
    words += ["/".join(ACTIVATIONS)] if "activation" in used else []
    return ", ".join(words) or "none"


def _parse_layer(token: str) -> tuple[LayerSpec | None, str | None]:
    """A layer token -> (the layer, None), or (None, what is wrong with it)."""
    head, *options = token.split("-")
    match = re.fullmatch(r"(conv1x1|[a-z]+)(\d[\d.]*)?", head)
    kind = match.group(1) if match else head
    if kind not in KINDS:
        return None, f"'{kind}' is not a layer type (one of {', '.join(KINDS)})"
    if match.group(2):
        options.insert(0, match.group(2))
    used = USED_FIELDS[kind]
    main = _MAIN.get(kind)
    values: dict = {"kind": kind}
    if main:
        if not options or not re.fullmatch(r"\d+(\.\d*)?|\.\d+", options[0]):
            what = {"filters": "number of filters", "kernel": "window size",
                    "rate": "rate"}[main] if kind != "dense" else "number of units"
            example = {"filters": 16, "kernel": 2, "rate": 0.5}[main]
            return None, f"{kind} needs its {what} right after it (e.g. {kind}-{example})"
        number = options.pop(0)
        if main != "rate" and not number.isdigit():
            return None, f"{main} {number} is not a whole number"
        values[main] = float(number) if main == "rate" else int(number)
    for option in options:
        setting = re.fullmatch(r"([ks])(\d+)", option)
        if setting and {"k": "kernel", "s": "stride"}[setting.group(1)] in used \
                and not (setting.group(1) == "k" and main == "kernel"):
            values[{"k": "kernel", "s": "stride"}[setting.group(1)]] = int(setting.group(2))
        elif option in PADDINGS and "padding" in used:
            values["padding"] = option
        elif option in ACTIVATIONS and "activation" in used:
            values["activation"] = option
        else:
            return None, f"'{option}' is not a setting of {kind} ({_settings_words(kind)})"
    if kind in ("maxpool", "avgpool") and "stride" not in values:
        values["stride"] = values["kernel"]  # Keras's pooling default: windows side by side
    for name, value in values.items():
        problem = _in_range(name, value, LIMITS[name]) if name in LIMITS else None
        if problem:
            return None, problem
    return canonical(replace(_DEFAULT_LAYER, **values)), None


def parse_net(text: str) -> tuple[tuple[int, int, int], list[LayerSpec]]:
    """Read a network written by :func:`net_text` (any case, spaces ignored).

    Raises ``CnnvizError`` naming every bad item (up to three) when the text is not
    a network: an unknown layer type, a setting out of its range (``LIMITS``), more
    than ``MAX_LAYERS`` layers or ``MAX_NET_CHARS`` characters.

    >>> parse_net("28x28x1,conv-8,maxpool-2,flatten,dense-10-linear")[1][1]
    LayerSpec(kind='maxpool', filters=16, kernel=2, stride=2, padding='same', \
activation='relu', rate=0.25)
    """
    if len(text) > MAX_NET_CHARS:
        raise CnnvizError(f"The network's text has {len(text)} characters; a link holds at "
                          f"most {MAX_NET_CHARS}.")
    items = [item for item in re.sub(r"\s+", "", text.lower()).split(",") if item]
    if not items:
        raise CnnvizError("The network's text is empty: it starts with the input size, "
                          "e.g. 64x64x3,conv-16,maxpool-2.")
    if len(items) - 1 > MAX_LAYERS:
        raise CnnvizError(f"The network has {len(items) - 1} layers; a link holds at most "
                          f"{MAX_LAYERS}.")
    shape, problem = _parse_input(items[0])
    problems = [f"the input: {problem}"] if problem else []
    spec = []
    for index, token in enumerate(items[1:], start=1):
        layer, problem = _parse_layer(token)
        if problem:
            shown = token if len(token) <= 40 else token[:37] + "..."
            problems.append(f"layer {index} '{shown}': {problem}")
        spec.append(layer)
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        message = "; ".join(problems[:3]) + more
        raise CnnvizError(message[0].upper() + message[1:] + ".")
    return shape, spec
