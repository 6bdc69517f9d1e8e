"""The code and the maths behind the Pooling & receptive fields page, for one view:
the pooled edge map (and Keras's pooling layer giving the same), the built-in model's
receptive fields and one unit's effective field, the shift probe, and what pooling
saves in the pooled-vs-plain pair (parameters and multiply-adds per layer)."""

from __future__ import annotations

from cnnviz.notebooks.common import image_code
from cnnviz.views import View


def numbers(fmap, pooled, rfs, layer: str, unit, erf, probe, costs) -> dict:
    """The page's numbers (what its code prints, what the tests compare): ``rfs`` the
    model's window layers, ``erf`` the unit's |gradient| map, ``probe`` the shift
    probe of the built-in model, ``costs`` the pair's ``layer_costs``."""
    from cnnviz import pooling, receptive

    rf = {r.name: r for r in rfs}[layer]
    centre = (rf.start_hw[0] + unit[0] * rf.jump_hw[0], rf.start_hw[1] + unit[1] * rf.jump_hw[1])
    half = receptive.mass_radius(erf, centre, 0.5) if erf.max() > 0 else None
    return {
        "edge_map_hw": [int(n) for n in fmap.shape],
        "pooled_hw": [int(n) for n in pooled.shape],
        "peak_kept": round(float(pooled.max() / fmap.max()), 4) if fmap.max() > 0 else 1.0,
        "receptive_fields": {r.name: int(r.size) for r in rfs},
        "unit": [int(unit[0]), int(unit[1])],
        "effective_half_mass_square": None if half is None else 2 * half + 1,
        "shift_same_prediction": [round(float(v), 4) for v in probe.same_prediction],
        "shift_probability": [round(float(v), 4) for v in probe.prob_original],
        "pair_parameters": {n: sum(c.params for c in rows) for n, rows in costs.items()},
        "pair_head_parameters": {n: pooling.head_params(rows) for n, rows in costs.items()},
        "pair_multiply_adds": {n: sum(c.macs for c in rows) for n, rows in costs.items()},
    }


def code(view: View) -> str:
    """Python that reproduces the view; its last cell builds ``numbers``."""
    mode, size, stride = view["mode"], view["win"], view["pstride"]
    keras_layer = "MaxPooling2D" if mode == "max" else "AveragePooling2D"
    layer = view["layer"]
    unit = ("row, col = rf.output_hw[0] // 2, rf.output_hw[1] // 2  # the centre unit"
            if view["row"] is None else f"row, col = {view['row']}, {view['col']}")
    train = (f"settings = pair.PairSettings(n_train={view['ntrain']}, epochs={view['epochs']},"
             " seed=seed)")
    return (
        "# %% The image and its edge map\n"
        "import numpy as np\n\n"
        "from cnnviz import conv, models, pooling, receptive\n"
        + image_code(view)
        + "\n\ngray = conv.to_gray(conv.shrink(image, 96))\n"
        "fmap = np.maximum(conv.convolve(gray, conv.classic_kernel('Sobel x')), 0)  # ReLU\n"
        "print('edge map', fmap.shape)\n\n"
        f"# %% {mode.capitalize()} pooling, window {size}, stride {stride}\n"
        "import keras\n\n"
        f"pooled = pooling.pool2d(fmap, {size}, {stride}, {mode!r})\n"
        f"keras_pooled = keras.layers.{keras_layer}(pool_size={size}, strides={stride})(\n"
        "    fmap[None, :, :, None].astype('float32'))[0, :, :, 0]\n"
        "print('pooled', pooled.shape, '| Keras gives the same:',\n"
        "      np.allclose(keras.ops.convert_to_numpy(keras_pooled), pooled, atol=1e-5))\n\n"
        "# %% The receptive fields of the built-in model\n"
        "model = models.load_model('shapes_cnn')\n"
        "rfs = receptive.window_layers(model)  # convolutions and pooling\n"
        "for r in rfs:\n"
        "    print(f'{r.name:14} jump {r.jump:2}  field {r.size}x{r.size}')\n\n"
        f"# %% One unit of {layer}: its effective receptive field\n"
        "x = models.prepare('shapes_cnn', image).x[0]\n"
        f"rf = {{r.name: r for r in rfs}}[{layer!r}]\n"
        + unit + "\n"
        f"erf = receptive.effective_rf(model, {layer!r}, x, row, col)  # |d unit / d pixel|\n"
        "print('theoretical field', rf.box(row, col, (64, 64)), '| gradient peak at',\n"
        "      np.unravel_index(erf.argmax(), erf.shape))\n\n"
        f"# %% Shift the image right by 0 to {view['shift']} pixels\n"
        f"probe = pooling.shift_probe(model, x, range({view['shift']} + 1))\n"
        "print('same prediction', probe.same_prediction)\n"
        "print('change per layer after 1 px', dict(zip(probe.layers, probe.at(1).round(3))))\n\n"
        "# %% What pooling saves: the pooled and the plain net, layer by layer\n"
        "pair_models = pooling.build_pair(5)\n"
        "costs = {name: pooling.layer_costs(m) for name, m in pair_models.items()}\n"
        "for name, rows in costs.items():\n"
        "    for c in rows:\n"
        "        print(f'{name:6} {c.name:8} {str(c.output):14} {c.params:7,} parameters '\n"
        "              f'{c.macs:10,} multiply-adds' + (' (head)' if c.head else ''))\n"
        "print(pooling.costs_sentence(costs))\n\n"
        "# %% Train the pair (a few minutes on a laptop's CPU)\n"
        "from cnnviz.training import pair\n\n"
        f"TRAIN = {bool(view['pair'])}  # True: train it, once per seed\n"
        "if TRAIN:\n"
        "    accuracy = {'pooled': [], 'plain': []}\n"
        f"    for seed in range({view['seeds']}):\n"
        f"        {train}\n"
        "        result = pair.train_pair(settings)\n"
        "        for name in accuracy:\n"
        "            accuracy[name].append(result.accuracy[name])\n"
        "    comparison = pooling.compare(accuracy['pooled'], accuracy['plain'],\n"
        "                                 settings.n_val)\n"
        "    print(pooling.accuracy_sentence(comparison, settings.n_val, costs))\n\n"
        "# %% The numbers on the page\n"
        "from cnnviz.notebooks.pooling import numbers as page_numbers\n\n"
        f"numbers = page_numbers(fmap, pooled, rfs, {layer!r}, (row, col), erf, probe, costs)\n"
        "print(numbers)\n"
    )


def maths(view: View, numbers: dict) -> list[str]:
    """Pooling's output size, the receptive-field recursion and the heads' sizes,
    numbers filled in (LaTeX)."""
    n = numbers["edge_map_hw"][1]
    k, s = view["win"], view["pstride"]
    head = numbers["pair_head_parameters"]
    name = view["layer"].replace("_", r"\_")
    return [
        rf"n_\text{{out}} = \left\lfloor \frac{{n - k}}{{s}} \right\rfloor + 1 = "
        rf"\left\lfloor \frac{{{n} - {k}}}{{{s}}} \right\rfloor + 1 = "
        rf"{numbers['pooled_hw'][1]}",
        r"r_l = r_{l-1} + (k_l - 1)\, j_{l-1}, \qquad j_l = j_{l-1}\, s_l, \qquad "
        rf"r_\text{{{name}}} = "
        rf"{numbers['receptive_fields'][view['layer']]}",
        r"\text{Dense head} = H W C \cdot n_\text{classes} + n_\text{classes}: \quad "
        rf"4\cdot4\cdot16\cdot5+5 = {head['pooled']:,} \ \text{{vs}}\ "
        rf"32\cdot32\cdot16\cdot5+5 = {head['plain']:,}",
    ]
