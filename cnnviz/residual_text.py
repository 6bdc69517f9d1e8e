"""What one plain-vs-residual run showed, in words generated from its own numbers.

Nothing here is written in advance for an activation: each sentence classifies a
measured number against a stated threshold, so a run that disagrees with the
textbook gets a sentence that says so (and what can cause it).

- The backward signal over the stack: ``signal`` holds ‖∂loss/∂x_l‖ for every
  layer's output at initialisation; its first/last ratio is the product of the
  per-layer factors ‖∂x_l/∂x_{l-1}‖ (in norm), and its (depth-1)-th root the
  typical factor per layer. Beyond :data:`GRADIENT_FACTOR` either way the signal
  *vanishes* or *explodes* towards the input; within it, it *stays*. The two nets are
  then compared with each other: the residual signal is *closer to 1* (or *further*)
  when its ratio's distance from 1, |log ratio|, is smaller (larger) than the plain
  net's by more than the factor :data:`COMPARE_FACTOR`; otherwise they are *alike*.
  A deep residual net's signal can itself grow past :data:`GRADIENT_FACTOR` (with batch
  norm each shortcut adds variance, so it grows like a power of the depth) while
  being hundreds of times closer to 1 than the plain net's exponential drift.
- Training: a network *trains* when its final loss is below :data:`TRAINS_SHARE`
  of its starting loss, *stalls* when above :data:`STALLS_SHARE`, and is *slow*
  in between; one network is *ahead* when its final loss is below
  :data:`AHEAD_SHARE` of the other's.
"""

from __future__ import annotations

import math

from cnnviz.residual import summary

#: first/last gradient ratio beyond this factor (or below its inverse): explodes/vanishes
GRADIENT_FACTOR = 10.0
#: the residual ratio is closer to 1 than the plain one (or further) beyond this factor
COMPARE_FACTOR = 10.0
#: final loss below this share of the starting loss: the network trains
TRAINS_SHARE = 0.5
#: final loss above this share of the starting loss: the network stalls
STALLS_SHARE = 0.8
#: one network's final loss below this share of the other's: it is ahead
AHEAD_SHARE = 0.5

#: what the activation's slope is (a fact about the function, not a measurement)
SLOPES = {
    "relu": "ReLU's slope is 1 for positive inputs and 0 otherwise",
    "tanh": "tanh's slope is at most 1 (only at 0)",
    "sigmoid": "sigmoid's slope is at most 1/4",
}


def profile(ratio: float) -> str:
    """'vanishes', 'explodes' or 'stays' for a first/last gradient ratio."""
    if ratio < 1 / GRADIENT_FACTOR:
        return "vanishes"
    if ratio > GRADIENT_FACTOR:
        return "explodes"
    return "stays"


def distance_from_one(ratio: float) -> float:
    """|log ratio|: how far a first/last ratio is from 1, growing or shrinking alike."""
    return abs(math.log(max(ratio, 1e-38)))


def comparison(plain: float, residual: float) -> tuple[str, float]:
    """('closer', 'further' or 'alike', factor): the residual ratio against the plain
    one, and by what factor the nearer one is nearer to 1."""
    gap = distance_from_one(plain) - distance_from_one(residual)
    factor = math.exp(abs(gap))
    if gap > math.log(COMPARE_FACTOR):
        return "closer", factor
    if gap < -math.log(COMPARE_FACTOR):
        return "further", factor
    return "alike", factor


def training(start: float, end: float) -> str:
    """'trains', 'stalls' or 'is slow' for a network's start and final loss."""
    if end < TRAINS_SHARE * start:
        return "trains"
    if end > STALLS_SHARE * start:
        return "stalls"
    return "is slow"


def per_layer(ratio: float, depth: int) -> float:
    """The typical factor per layer whose product over ``depth - 1`` layers is ``ratio``."""
    return ratio ** (1 / max(depth - 1, 1)) if ratio > 0 else 0.0


def signal_summary(result: dict, name: str) -> dict:
    """First, last and first/last of network ``name``'s backward signal ‖∂L/∂x_l‖ at
    initialisation (its kernel gradients for a result measured before the signal was)."""
    s = summary(result)
    return s.get(f"{name}_signal", s[f"{name}_init"])


def formula(result: dict) -> str:
    """LaTeX: the identity path, and the product over layers with this run's numbers."""
    depth = result["settings"]["depth"]
    plain = signal_summary(result, "plain")["first_over_last"]
    res = signal_summary(result, "residual")["first_over_last"]
    return (
        r"\frac{\partial x_l}{\partial x_{l-1}} = I + \frac{\partial F_l}{\partial x_{l-1}}"
        r"\qquad \frac{\partial L}{\partial x_1} = \frac{\partial L}{\partial x_L}"
        r"\prod_{l=2}^{L}\frac{\partial x_l}{\partial x_{l-1}}"
        r"\\[4pt] \frac{\lVert\partial L/\partial x_1\rVert}{\lVert\partial L/\partial x_L\rVert}"
        rf":\quad \text{{plain}}\ {_tex_number(plain)} \approx "
        rf"{per_layer(plain, depth):.2f}^{{{depth - 1}}},\qquad "
        rf"\text{{residual}}\ {_tex_number(res)} \approx "
        rf"{per_layer(res, depth):.2f}^{{{depth - 1}}}"
    )


def _times(factor: float) -> str:
    """A factor in two significant digits, as a plain number up to 10^5: 263 -> '260'."""
    return f"{float(f'{factor:.2g}'):,.0f}" if factor < 1e5 else f"{factor:.1e}"


def _tex_number(x: float) -> str:
    if x == 0 or 0.01 <= abs(x) < 1000:
        return f"{x:.3g}"
    exponent = math.floor(math.log10(abs(x)))
    return rf"{x / 10 ** exponent:.2f}\times 10^{{{exponent}}}"


def conclusions(result: dict) -> list[str]:
    """The sentences the page shows under the measurement, from the measured numbers."""
    c = result["settings"]
    depth, steps = c["depth"], c["steps"]
    s = summary(result)
    out = []
    ratios = {name: signal_summary(result, name)["first_over_last"]
              for name in ("plain", "residual")}
    for name, ratio in ratios.items():
        how = {"vanishes": f"shrinks more than {GRADIENT_FACTOR:g}x",
               "explodes": f"grows more than {GRADIENT_FACTOR:g}x",
               "stays": f"stays within {GRADIENT_FACTOR:g}x"}[profile(ratio)]
        out.append(f"{name.capitalize()}: the backward signal {how} from the last layer to "
                   f"the first ({ratio:.2g}x, about {per_layer(ratio, depth):.2f} per layer)")
    word, factor = comparison(ratios["plain"], ratios["residual"])
    out[0] += "."
    out[1] += {"closer": f": {_times(factor)} times closer to 1 than the plain net's.",
               "further": f": {_times(factor)} times further from 1 than the plain net's.",
               "alike": f": as far from 1 as the plain net's, within {COMPARE_FACTOR:g}x."
               }[word]
    bn = "with batch norm" if c.get("batchnorm") else "without batch norm"
    if word == "closer":
        out.append(f"{SLOPES[c['activation']]}; {bn}, each plain layer's factor compounds "
                   f"over {depth} layers, while the shortcut's I + ∂F/∂x keeps the residual "
                   "product closer to 1.")
    elif word == "alike":
        out.append(f"{SLOPES[c['activation']]}; {bn}, over {depth} layers the shortcut "
                   f"changed the backward signal by less than {COMPARE_FACTOR:g}x, so this "
                   "run does not show its effect on the gradient: try more layers.")
    else:
        out.append(f"This run disagrees with the textbook: the residual signal drifts further "
                   f"from 1 than the plain one ({SLOPES[c['activation']]}, {bn}). Without "
                   "normalisation every shortcut adds its branch's variance, so activations "
                   "and gradients grow with depth: turn batch norm on, or use fewer layers.")
    verdicts = {name: training(s[f"{name}_loss"]["start"], s[f"{name}_loss"]["end"])
                for name in ("plain", "residual")}
    plain_end, res_end = s["plain_loss"]["end"], s["residual_loss"]["end"]
    if res_end < AHEAD_SHARE * plain_end:
        ahead = "the residual net is ahead"
    elif plain_end < AHEAD_SHARE * res_end:
        ahead = "the plain net is ahead: the shortcuts did not help in this run"
    else:
        ahead = "neither net is clearly ahead"
    out.append(f"After {steps} steps the plain net {verdicts['plain']} (loss "
               f"{s['plain_loss']['start']:.2f} → {plain_end:.2g}) and the residual net "
               f"{verdicts['residual']} ({s['residual_loss']['start']:.2f} → {res_end:.2g}): "
               f"{ahead}.")
    return out


THRESHOLDS = (f"Thresholds: the signal vanishes/explodes beyond {GRADIENT_FACTOR:g}x; one "
              f"net's signal is closer to 1 than the other's when its ratio is nearer 1 by "
              f"more than {COMPARE_FACTOR:g}x (in |log ratio|); a net "
              f"trains when its final loss is below {TRAINS_SHARE:g} of its start, stalls "
              f"above {STALLS_SHARE:g}; a net is ahead with less than {AHEAD_SHARE:g} of the "
              "other's final loss (losses: means of the first and last fifth of the steps).")


def describe(result: dict) -> str:
    """The settings of a run, for the caption under the plots."""
    c = result["settings"]
    return (
        f"Measured in {result['seconds']:.1f} s. {c['depth']} 3x3 convs of {c['width']} "
        f"channels after a stride-2 stem, {c['activation']}, "
        f"{'batch norm before each activation' if c.get('batchnorm') else 'no batch norm'}, "
        f"He-normal init (seed {c['seed']}), flatten + dense head; {c['size']}x{c['size']} "
        f"make_shapes images ({c['classes']} classes); Adam lr {c['learning_rate']}, batch "
        f"{c['batch']}, a fixed set of {c['train_images']} training images; gradient norms "
        "on one fixed batch. " + THRESHOLDS
        + (" A norm of exactly 0 (the gradient underflowed float32) is drawn at 1e-30."
           if any(0.0 in result[n][p] for n in ("plain", "residual")
                  for p in ("init", "trained")) else "")
    )
