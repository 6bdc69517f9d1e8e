"""The code and the maths behind the Grad-CAM page, for one view: Grad-CAM written out
with a ``tf.GradientTape`` in plain Keras, then checked against ``cnnviz.cam``."""

from __future__ import annotations

import numpy as np

from cnnviz.notebooks.common import image_code
from cnnviz.views import View


def numbers(steps, probabilities, mask=None) -> dict:
    """The page's numbers for one Grad-CAM run (``cam.gradcam_steps`` of one image):
    what its code prints, what the tests compare."""
    cls = int(steps.classes[0])
    ws = steps.weighted_sum[0]
    cam = steps.cam[0]
    peak = np.unravel_index(int(np.argmax(cam)), cam.shape)
    out = {
        "top_class": int(np.argmax(steps.logits[0])),
        "class": cls,
        "logit": round(float(steps.logits[0, cls]), 4),
        "probability": round(float(probabilities[cls]), 4),
        "layer": steps.layer,
        "map_hw": [int(n) for n in cam.shape],
        "channels": int(steps.activations.shape[-1]),
        "weighted_sum_max": round(float(ws.max()), 4),
        "cam_peak": [int(peak[0]), int(peak[1])],
    }
    if mask is not None:
        from cnnviz import evaluate

        out["peak_on_object"] = bool(evaluate.pointing_game(steps.cam, mask[None])[0])
    return out


def code(view: View) -> str:
    """Python that reproduces the view: load the model and the image, predict, then
    Grad-CAM by hand (one forward and one backward pass) and with ``cnnviz.cam``; its
    last cell builds ``numbers``, the page's numbers."""
    model, layer, pool = view["model"], view["layer"], view["pool"]
    cls = "top_class" if view["cls"] is None else str(view["cls"])
    has_mask = view["src"] == "shape"
    return "\n\n".join([
        "# %% The model and the image\n"
        "import keras\n"
        "import numpy as np\n"
        "import tensorflow as tf\n\n"
        "from cnnviz import cam, images, models\n"
        + image_code(view, mask=True)
        + f"\n\nmodel = models.load_model({model!r})  # its last layer outputs logits\n"
        f"prepared = models.prepare({model!r}, image, mask)  # resized and preprocessed as the "
        "model expects\n"
        "x = prepared.x  # float32 (1, h, w, 3)",
        "# %% What does the model predict?\n"
        f"names = models.class_names({model!r})\n"
        "logits = keras.ops.convert_to_numpy(model(x, training=False))[0]\n"
        "probabilities = models.probabilities(logits)\n"
        "top_class = int(np.argmax(logits))\n"
        f"class_index = {cls}\n"
        "print('top class:', names[top_class], f'p = {probabilities[top_class]:.1%}')\n"
        "print('explained:', names[class_index], 'logit', logits[class_index])",
        "# %% Grad-CAM by hand: the gradient of the class logit w.r.t. the layer's maps\n"
        f"layer = model.get_layer({layer!r})\n"
        "probe = keras.Model(model.inputs[0], [layer.output, model.outputs[0]])\n"
        "with tf.GradientTape() as tape:\n"
        "    maps, scores = probe(x, training=False)\n"
        "    score = scores[:, class_index]  # the logit, before softmax: no saturation\n"
        "gradients = tape.gradient(score, maps)[0].numpy()  # (h, w, channels)\n"
        "maps = maps[0].numpy()\n"
        f"alpha = gradients.{pool}(axis=(0, 1))  # one weight per channel, signed "
        f"({pool} of its gradients)\n"
        "weighted_sum = maps @ alpha  # sum over channels of alpha_k * A_k: (h, w)\n"
        "heatmap = np.maximum(weighted_sum, 0)  # ReLU: keep the evidence FOR the class\n"
        "heatmap = heatmap / (heatmap.max() + 1e-30)  # scaled to [0, 1]\n"
        "print('map', heatmap.shape, 'from', maps.shape[-1], 'channels')",
        "# %% The same with cnnviz, and the map on the image\n"
        f"steps = cam.gradcam_steps(model, x, class_index=class_index, layer={layer!r}, "
        f"pooling={pool!r})\n"
        "print('largest difference from the hand-written map:',\n"
        "      np.abs(steps.cam[0] - heatmap).max())\n"
        "overlay = images.overlay(prepared.display, steps.cam[0])  # uint8, for plt.imshow",
        "# %% The numbers on the page\n"
        "from cnnviz.notebooks.gradcam import numbers as page_numbers\n\n"
        "numbers = page_numbers(steps, probabilities"
        + (", prepared.mask)" if has_mask else ")")
        + "\nprint(numbers)",
    ]) + "\n"


def maths(view: View, numbers: dict) -> list[str]:
    """The Grad-CAM formulas with the view's numbers filled in (LaTeX)."""
    h, w = numbers["map_hw"]
    k = numbers["channels"]
    c = numbers["class"]
    mean = view["pool"] == "mean"
    pool = r"\frac{1}{Z}\sum_{i,j}" if mean else r"\max_{i,j}"
    row, col = numbers["cam_peak"]
    return [
        rf"\alpha_k^{{c}} = {pool} \frac{{\partial y^{{c}}}}{{\partial A^k_{{ij}}}}"
        + (rf", \qquad Z = {h}\times{w}" if mean else ""),
        rf"c = {c}, \qquad y^{{c}} = {numbers['logit']:.2f}, \qquad k = 1, \ldots, {k}",
        rf"L^{{c}} = \mathrm{{ReLU}}\Big(\sum_{{k=1}}^{{{k}}} \alpha_k^{{c}} A^k\Big)",
        rf"\max_{{i,j}} \sum_k \alpha_k^{{c}} A^k_{{ij}} = {numbers['weighted_sum_max']:.3g}"
        rf"\ \text{{at row {row}, column {col}}}",
    ]
