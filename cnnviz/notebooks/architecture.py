"""The code and the maths behind the Architecture lab, for one view: the 1x1
convolution at one pixel, the bottleneck calculator, the inception block on a real
feature map, and the plain-vs-residual experiment with the view's settings."""

from __future__ import annotations

from cnnviz.notebooks.common import image_code
from cnnviz.views import View
from cnnviz.views.architecture import DEMO_MODEL


def numbers(pw, bottleneck: dict, branches: dict, inception: dict) -> dict:
    """The page's numbers: ``pw`` an ``archdemo.Pointwise``, ``bottleneck`` the
    ``archdemo.bottleneck_cost``, ``branches`` the inception block's {branch: maps} and
    ``inception`` its ``archdemo.inception_cost``."""
    c, k = pw.weights.shape
    return {
        "pointwise_in": [int(n) for n in pw.inputs.shape],
        "pointwise_out": [int(n) for n in pw.outputs.shape],
        "pointwise_params": int(c * k + k),
        "pointwise_sums": [round(float(v), 4) for v in pw.sums[:4]],
        "direct_macs": int(bottleneck["direct_macs"]),
        "bottleneck_macs": int(bottleneck["bottleneck_macs"]),
        "bottleneck_saving": round(float(bottleneck["saving"]), 3),
        "branch_channels": {name: int(maps.shape[-1]) for name, maps in branches.items()},
        "inception_naive_macs": int(inception["naive_macs"]),
        "inception_bottleneck_macs": int(inception["bottleneck_macs"]),
        "inception_saving": round(float(inception["saving"]), 3),
    }


def code(view: View) -> str:
    """Python that reproduces the view's numbers with ``cnnviz`` and Keras."""
    residual = (f"residual.Settings(depth={view['depth']}, activation={view['act']!r}, "
                f"batchnorm={view['bn']!r}, steps={view['steps']})")
    return (
        "# %% The image and the built-in model's feature maps\n"
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
        "# %% An inception block on a real feature map\n"
        f"inc_in = archdemo.feature_map(model, x, {view['incl']!r})[0]\n"
        f"block = archdemo.inception_outputs(inc_in, {view['incf']}, seed=0)\n"
        "branches = block['branches']\n"
        f"inception = archdemo.inception_cost(*inc_in.shape, {view['incf']})\n"
        "print({name: maps.shape for name, maps in branches.items()}, block['concat'].shape)\n"
        "\n"
        "# %% Plain vs residual (the page runs it as a job; here about as long)\n"
        "from cnnviz import residual, residual_text\n\n"
        f"result = residual.compare({residual})\n"
        "for sentence in residual_text.conclusions(result):\n"
        "    print(sentence)\n\n"
        "# %% The numbers on the page\n"
        "from cnnviz.notebooks.architecture import numbers as page_numbers\n\n"
        "numbers = page_numbers(pw, bottleneck, branches, inception)\n"
        "print(numbers)\n"
    )


def maths(view: View, numbers: dict) -> list[str]:
    """The 1x1 convolution, the bottleneck's cost and the identity path (LaTeX)."""
    c = numbers["pointwise_in"][-1]
    k = numbers["pointwise_out"][-1]
    kk = view["bk"]
    return [
        rf"y_j = \sum_{{c=1}}^{{{c}}} x_c\, w_{{c,j}} + b_j,\quad j = 1..{k}:\quad "
        rf"{c}\cdot{k} + {k} = {numbers['pointwise_params']:,}\ \text{{parameters}}",
        rf"H W C_{{out}} k^2 C_{{in}} = {numbers['direct_macs']:,} \quad\text{{vs}}\quad "
        rf"H W b\, C_{{in}} + H W C_{{out}} k^2 b = {numbers['bottleneck_macs']:,}\quad "
        rf"(k = {kk},\ {numbers['bottleneck_saving']:.1f}\times)",
        r"\frac{\partial x_l}{\partial x_{l-1}} = I + \frac{\partial F_l}{\partial x_{l-1}}",
    ]
