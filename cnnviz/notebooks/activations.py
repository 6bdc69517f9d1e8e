"""The code and the maths behind the Activations page, for one view: the multi-output
Keras model, the zeros after each ReLU, and the linear probe of every layer."""

from __future__ import annotations

import math

import numpy as np

from cnnviz.notebooks.common import image_code
from cnnviz.views import View


def _round(value) -> float | None:
    value = float(value)
    return None if not math.isfinite(value) else round(value, 4)


def numbers(maps: dict, enlarged, rows: list[dict], h) -> dict:
    """The page's numbers: what its code prints, what the tests compare.

    ``maps``: {layer: activations (1, h, w, c)} of the layers shown; ``enlarged``:
    (layer, channel) of the enlarged map, or None; ``rows``: the statistics per depth
    (``activations.layer_statistics``); ``h``: the ``hierarchy.Hierarchy``.
    """
    out = {"shapes": {name: [int(n) for n in a.shape[1:]] for name, a in maps.items()}}
    if enlarged is not None:
        layer, channel = enlarged
        fmap = maps[layer][0][..., channel]
        out["enlarged"] = [layer, int(channel)]
        out["enlarged_max"] = _round(fmap.max())
        out["enlarged_zeros"] = _round(np.mean(fmap <= 0))
    out["zeros"] = {r["layer"]: _round(r["fraction zero"]) for r in rows}
    out["probe_accuracy"] = {name: _round(a) for name, a in zip(h.layers, h.accuracy)}
    out["probe_best"] = h.best
    out["chance"] = _round(h.chance)
    return out


def code(view: View) -> str:
    """Python that reproduces the view with plain Keras and the ``cnnviz`` API; its last
    cell builds ``numbers``, the page's numbers."""
    model, layers, kinds = view["model"], list(view["layers"]), list(view["kinds"])
    enlarged = ""
    if layers:
        channel = ("int(activations.strongest_channels(maps[layer][0])[0])  # the strongest"
                   if view["mc"] is None else str(view["mc"]))
        enlarged = ("\n\n# %% The enlarged map\n"
                    f"layer = {view['ml']!r}\n"
                    f"channel = {channel}\n"
                    "fmap = maps[layer][0][..., channel]\n"
                    "print(layer, channel, 'max', fmap.max(), 'zeros', np.mean(fmap <= 0))")
    return (
        "# %% The model and the image\n"
        "import keras\n"
        "import numpy as np\n\n"
        "from cnnviz import activations, hierarchy, models, probe\n"
        + image_code(view)
        + f"\n\nmodel = models.load_model({model!r})\n"
        f"x = models.prepare({model!r}, image).x  # (1, h, w, 3), as the model expects\n\n"
        "# %% One model, many outputs: every chosen layer's maps in ONE forward pass\n"
        f"layers = {layers!r}\n"
        "probe_model = keras.Model(model.inputs, [model.get_layer(n).output for n in layers])\n"
        "outputs = probe_model(x, training=False)\n"
        "outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]\n"
        "maps = {n: keras.ops.convert_to_numpy(a) for n, a in zip(layers, outputs)}\n"
        "for n, a in maps.items():\n"
        "    print(n, a.shape)  # (batch, height, width, channels)"
        + enlarged
        + "\n\n# %% Size, channels and zeros per depth (zeros counted after each ReLU)\n"
        f"kinds = {kinds!r}\n"
        "infos = probe.feature_layers(model)\n"
        "listed = [i.name for i in infos if i.kind in kinds] or [i.name for i in infos]\n"
        "depths = {i.name: i.depth for i in infos}\n"
        "zeros_at = activations.nonlinearity_layers(model, listed)  # where ReLU has acted\n"
        "needed = list(dict.fromkeys(listed + [v for v in zeros_at.values() if v]))\n"
        "everything = activations.extract(model, x, needed)\n"
        "rows = activations.layer_statistics(everything, depths, zeros_at=zeros_at, "
        "layers=listed)\n"
        "for r in rows:\n"
        "    print(r['layer'], r['height'], r['channels'], 'zeros', r['fraction zero'])\n\n"
        "# %% Which layer separates the classes best? A linear probe per layer\n"
        f"probe_x, labels, names = hierarchy.probe_images({model!r}, {view['pn']}, "
        f"seed={view['pseed']})\n"
        "h = hierarchy.measure(model, probe_x, labels, listed, depths)\n"
        "for n, a, s in zip(h.layers, h.accuracy, h.spread):\n"
        "    print(f'{n}: {a:.0%} ± {s:.0%}')\n"
        "print(*hierarchy.describe(h))\n\n"
        "# %% The numbers on the page\n"
        "from cnnviz.notebooks.activations import numbers as page_numbers\n\n"
        "numbers = page_numbers(maps, "
        + ("(layer, channel)" if layers else "None")
        + ", rows, h)\nprint(numbers)\n"
    )


def maths(view: View, numbers: dict) -> list[str]:
    """The formulas with the view's numbers filled in (LaTeX)."""
    lines = [r"A^{(l)} = \mathrm{ReLU}\big(W^{(l)} * A^{(l-1)} + b^{(l)}\big), \qquad "
             r"\text{zeros}(l) = \frac{\#\{A^{(l)}_{ijk} = 0\}}{H_l W_l C_l}"]
    shapes = numbers.get("shapes", {})
    if shapes:
        name, (h, w, c) = next(reversed(shapes.items()))
        lines.append(rf"\text{{{name}}}:\ {h}\times{w}\times{c} = {h * w * c:,}"
                     r"\ \text{numbers per image}".replace(",", r"{,}"))
    accuracy = numbers.get("probe_accuracy", {})
    if accuracy:
        best = numbers["probe_best"]
        lines.append(r"f_k = \frac{1}{HW}\sum_{i,j} A_{ijk}, \qquad \hat y = \arg\max_c "
                     r"\big(W^\top \mathrm{std}(f) + b\big)_c, \qquad W = (Z^\top Z + "
                     r"\lambda I)^{-1} Z^\top Y")
        lines.append(rf"\text{{accuracy}}(\text{{{best}}}) = {accuracy[best]:.0%}"
                     .replace("%", r"\%")
                     + rf"\quad \text{{chance}} = {numbers['chance']:.0%}".replace("%", r"\%"))
    return lines
