"""The code and the maths behind the Architecture lab, for one view: the network in the
builder (its table, and the same model in Keras), the 1x1 convolution at one pixel,
the bottleneck calculator, a trained inception block's branches with their measured
scales, and the plain-vs-residual experiment with the view's settings."""

from __future__ import annotations

from cnnviz import architecture, nettext
from cnnviz.notebooks.common import image_code
from cnnviz.views import View
from cnnviz.views.architecture import DEMO_MODEL


def numbers(pw, bottleneck: dict, trained, inception: dict, network: list) -> dict:
    """The page's numbers: ``pw`` an ``archdemo.Pointwise``, ``bottleneck`` the
    ``archdemo.bottleneck_cost``, ``trained`` the ``archdemo.trained_block``,
    ``inception`` its ``archdemo.inception_cost`` and ``network`` the builder's table
    (``architecture.analyze``)."""
    c, k = pw.weights.shape
    total = architecture.totals(network)
    return {
        "network_params": int(total["params"]),
        "network_macs": int(total["macs"]),
        "network_output": " x ".join(map(str, total["output"])) if total["output"] else "",
        "pointwise_in": [int(n) for n in pw.inputs.shape],
        "pointwise_out": [int(n) for n in pw.outputs.shape],
        "pointwise_params": int(c * k + k),
        "pointwise_sums": [round(float(v), 4) for v in pw.sums[:4]],
        "direct_macs": int(bottleneck["direct_macs"]),
        "bottleneck_macs": int(bottleneck["bottleneck_macs"]),
        "bottleneck_saving": round(float(bottleneck["saving"]), 3),
        "branch_channels": {name: int(b.maps.shape[-1]) for name, b in trained.branches.items()},
        "block_input_field": int(trained.input_field),
        "block_input_jump": int(trained.input_jump),
        "branch_fields": {name: int(b.field) for name, b in trained.branches.items()},
        "branch_moved_by": {f"{name} {f:.0%}": b.side(f) for name, b in trained.branches.items()
                            for f in b.radii},
        "inception_naive_macs": int(inception["naive_macs"]),
        "inception_bottleneck_macs": int(inception["bottleneck_macs"]),
        "inception_saving": round(float(inception["saving"]), 3),
    }


def code(view: View) -> str:
    """Python that reproduces the view's numbers with ``cnnviz`` and Keras."""
    residual = (f"residual.Settings(depth={view['depth']}, activation={view['act']!r}, "
                f"batchnorm={view['bn']!r}, steps={view['steps']})")
    return (
        _network_code(view["net"])
        + "# %% The image and the built-in model's feature maps\n"
        "import numpy as np\n\n"
        "from cnnviz import archdemo, models\n"
        + image_code(view)
        + f"\n\nmodel = models.load_model({DEMO_MODEL!r})\n"
        f"x = models.prepare({DEMO_MODEL!r}, image).x\n"
        f"fmap = archdemo.feature_map(model, x, {view['pwl']!r})[0]  # (h, w, C)\n"
        "print('feature map', fmap.shape)\n\n"
        "# %% A 1x1 convolution, followed at one pixel\n"
        f"pw = archdemo.pointwise(fmap, {view['k']}, {view['row']}, {view['col']}, seed=0)\n"
        "# output j at the pixel = sum over channels c of input[c] * w[c, j] + b[j]\n"
        "by_hand = pw.vector @ pw.weights + pw.bias\n"
        f"print(pw.outputs.shape, np.abs(by_hand - pw.outputs[{view['row']}, {view['col']}])"
        ".max())\n\n"
        "# %% The bottleneck calculator\n"
        f"bottleneck = archdemo.bottleneck_cost({view['bh']}, {view['bw']}, {view['bcin']}, "
        f"{view['bcout']}, {view['bk']}, {view['bb']})\n"
        "print(bottleneck)\n\n"
        "# %% A trained inception block: each branch's response, field and measured scale\n"
        "from cnnviz.models import inception as inception_net\n\n"
        "net = inception_net.load_shapes_inception()  # trained on shapes, same 64x64 input\n"
        f"trained = archdemo.trained_block(net, x[0], {view['incb']!r})\n"
        "for name, branch in trained.branches.items():\n"
        "    # sees: theoretical field; moved by: square holding 50% of |d unit / d pixel|\n"
        "    print(name, branch.maps.shape, 'sees', branch.field, 'px, moved by',\n"
        "          branch.side(0.5), 'px')\n"
        "print(archdemo.scale_sentence({n: b.side(0.5) for n, b in trained.branches.items()},"
        " 0.5))\n"
        "filters = trained.branches['1x1'].maps.shape[-1]  # the block's width F\n"
        "inception = archdemo.inception_cost(*trained.input_shape, filters)\n\n"
        "# %% Plain vs residual (the page runs it as a job; here about as long)\n"
        "from cnnviz import residual, residual_text\n\n"
        f"result = residual.compare({residual})\n"
        "for sentence in residual_text.conclusions(result):\n"
        "    print(sentence)\n\n"
        "# %% The numbers on the page\n"
        "from cnnviz.notebooks.architecture import numbers as page_numbers\n\n"
        "numbers = page_numbers(pw, bottleneck, trained, inception, rows)\n"
        "print(numbers)\n"
    )


def _network_code(net: str) -> str:
    """The builder's network: its table in pure Python and, when every layer works, the
    real Keras model with the same parameter count."""
    input_shape, spec = nettext.parse_net(net)
    code = (
        "# %% The network in the builder: what each layer outputs and costs\n"
        "from cnnviz import architecture, nettext\n\n"
        f"input_shape, spec = nettext.parse_net({net!r})\n"
        "rows = architecture.analyze(spec, input_shape)\n"
        "for row in rows:\n"
        "    print(row.index, row.name, row.shape, row.params, row.macs, row.error or '')\n"
        "print(architecture.totals(rows))\n\n")
    if all(row.ok for row in architecture.analyze(spec, input_shape)):
        code += ("# %% The same network in Keras: the same parameters\n"
                 "model = architecture.build_model(spec, input_shape)\n"
                 "print(model.count_params(), architecture.totals(rows)['params'])\n\n")
    return code


def maths(view: View, numbers: dict) -> list[str]:
    """The 1x1 convolution, the bottleneck's cost, the inception branches' fields and the
    identity path (LaTeX)."""
    c = numbers["pointwise_in"][-1]
    k = numbers["pointwise_out"][-1]
    kk = view["bk"]
    return [
        rf"y_j = \sum_{{c=1}}^{{{c}}} x_c\, w_{{c,j}} + b_j,\quad j = 1..{k}:\quad "
        rf"{c}\cdot{k} + {k} = {numbers['pointwise_params']:,}\ \text{{parameters}}",
        rf"H W C_{{out}} k^2 C_{{in}} = {numbers['direct_macs']:,} \quad\text{{vs}}\quad "
        rf"H W b\, C_{{in}} + H W C_{{out}} k^2 b = {numbers['bottleneck_macs']:,}\quad "
        rf"(k = {kk},\ {numbers['bottleneck_saving']:.1f}\times)",
        rf"\text{{sees}} = r + (k-1)\,J = {numbers['block_input_field']} + (k-1)\cdot "
        rf"{numbers['block_input_jump']}:\quad "
        + ",\\ ".join(rf"\text{{{name}}}\ {side}" for name, side in zip(
            ("1x1", "3x3", "5x5"), list(numbers["branch_fields"].values())[:3]))
        + r"\ \text{px}",
        r"\frac{\partial x_l}{\partial x_{l-1}} = I + \frac{\partial F_l}{\partial x_{l-1}}",
    ]
