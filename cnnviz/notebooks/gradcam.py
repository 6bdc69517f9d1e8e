"""The code and the maths behind the Grad-CAM page, for one view: Grad-CAM written out
with a ``tf.GradientTape`` in plain Keras, then checked against ``cnnviz.cam``."""

from __future__ import annotations

import numpy as np

from cnnviz.notebooks.common import image_code
from cnnviz.views import View


def numbers(steps, probabilities, masks=None, comparison=None, objects=()) -> dict:
    """The page's numbers for one Grad-CAM run (``cam.gradcam_steps`` of one image) and
    the classes compared on one scale (``classmaps.compare_classes``): what its code
    prints, what the tests compare. ``masks`` (k, H, W): the objects' masks, ``objects``
    their classes."""
    from cnnviz import classmaps

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
        "negative_weights": int((steps.weights[0] < 0).sum()),
    }
    if masks is not None and cls in objects:
        pointed = classmaps.peak_object(steps.cam[0], masks)
        out["peak_on_object"] = bool(pointed >= 0 and objects[pointed] == cls)
    if comparison is not None:
        out["compared"] = list(comparison.classes)
        out["shared_scale"] = round(float(comparison.scale), 4)
        for c, value in zip(comparison.classes, comparison.peaks):
            out[f"peak_class_{c}"] = round(float(value), 4)
        out["map_status"] = [comparison.status(i).kind or "shown"
                             for i in range(len(comparison.classes))]
        if masks is not None:
            out["points_at_object"] = [classmaps.peak_object(m, masks)
                                       for m in comparison.relu]
    return out


def _image_code(view: View) -> str:
    """The picked image, its objects' masks and their classes (``objects``)."""
    if view["img"] == "scene":
        return (
            "from cnnviz.data import make_scene\n\n"
            f"# a scene of shapes, seed {view['sseed']}: one mask and one class per object\n"
            f"scene = make_scene({list(view['objs'])!r}, seed={view['sseed']}, "
            "class_names=tuple(names))\n"
            "image = (scene.image * 255).round().astype(np.uint8)\n"
            "masks = scene.masks\n"
            "objects = [int(c) for c in scene.labels]\n"
            "compare_objects = objects  # the maps of these classes are compared")
    shape = view["src"] == "shape"
    return (image_code(view, mask=True)
            + "\nmasks = None if mask is None else mask[None]\n"
            + (f"objects = [names.index(s) if s in names else -1 for s in [{view['shape']!r}]]"
               if shape else "objects = []")
            + "\ncompare_objects = ()  # one object: the top classes are compared")


def code(view: View) -> str:
    """Python that reproduces the view: load the model and the image, predict, then
    Grad-CAM by hand (one forward and one backward pass) and with ``cnnviz.cam``, then
    several classes on one scale; its last cell builds ``numbers``, the page's numbers."""
    model, layer, pool = view["model"], view["layer"], view["pool"]
    cls = "top_class" if view["cls"] is None else str(view["cls"])
    return "\n\n".join([
        "# %% The model and the image\n"
        "import keras\n"
        "import numpy as np\n"
        "import tensorflow as tf\n\n"
        "from cnnviz import cam, classmaps, images, models\n\n"
        f"names = models.class_names({model!r})  # the model's classes, in output order\n"
        + _image_code(view)
        + f"\n\nmodel = models.load_model({model!r})  # its last layer outputs logits\n"
        f"prepared = models.prepare({model!r}, image)  # resized and preprocessed as the "
        "model expects\n"
        "x = prepared.x  # float32 (1, h, w, 3)\n"
        "if masks is not None:  # the masks at the model's input size\n"
        f"    masks = np.stack([models.prepare({model!r}, image, m).mask for m in masks])",
        "# %% What does the model predict?\n"
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
        "print('map', heatmap.shape, 'from', maps.shape[-1], 'channels;',\n"
        "      (alpha < 0).sum(), 'negative weights')",
        "# %% The same with cnnviz, and the map on the image\n"
        f"steps = cam.gradcam_steps(model, x, class_index=class_index, layer={layer!r}, "
        f"pooling={pool!r})\n"
        "print('largest difference from the hand-written map:',\n"
        "      np.abs(steps.cam[0] - heatmap).max())\n"
        "overlay = images.overlay(prepared.display, steps.cam[0])  # uint8, for plt.imshow",
        "# %% Several classes on ONE scale: a weak class looks weak\n"
        "compared = classmaps.compared_classes(probabilities, objects=compare_objects,\n"
        "                                      chosen=class_index)\n"
        f"comparison = classmaps.compare_classes(model, x, compared, layer={layer!r})\n"
        "for i, c in enumerate(compared):  # raw peaks: ReLU(sum alpha_k A_k), logit units\n"
        "    where = '' if masks is None else classmaps.peak_object(comparison.relu[i], masks)\n"
        "    print(names[c], 'peak', round(float(comparison.peaks[i]), 3),\n"
        "          comparison.status(i).kind or 'shown', 'peak on object', where)\n"
        "shared_maps = comparison.shared  # every map divided by the largest peak",
        "# %% The numbers on the page\n"
        "from cnnviz.notebooks.gradcam import numbers as page_numbers\n\n"
        "numbers = page_numbers(steps, probabilities, masks, comparison, objects)\n"
        "print(numbers)",
    ]) + "\n"


def maths(view: View, numbers: dict) -> list[str]:
    """The Grad-CAM formulas with the view's numbers filled in (LaTeX)."""
    h, w = numbers["map_hw"]
    k = numbers["channels"]
    c = numbers["class"]
    mean = view["pool"] == "mean"
    pool = r"\frac{1}{Z}\sum_{i,j}" if mean else r"\max_{i,j}"
    row, col = numbers["cam_peak"]
    scale = numbers.get("shared_scale")
    shared = ([rf"\tilde L^{{c}} = L^{{c}} \big/ \max_{{c'}} \max_{{i,j}} L^{{c'}}_{{ij}} "
               rf"= L^{{c}} / {scale:.3g} \quad \text{{(one scale for every class compared)}}"]
              if scale is not None else [])
    return [
        rf"\alpha_k^{{c}} = {pool} \frac{{\partial y^{{c}}}}{{\partial A^k_{{ij}}}}"
        + (rf", \qquad Z = {h}\times{w}" if mean else ""),
        rf"c = {c}, \qquad y^{{c}} = {numbers['logit']:.2f}, \qquad k = 1, \ldots, {k}",
        rf"L^{{c}} = \mathrm{{ReLU}}\Big(\sum_{{k=1}}^{{{k}}} \alpha_k^{{c}} A^k\Big)",
        rf"\max_{{i,j}} \sum_k \alpha_k^{{c}} A^k_{{ij}} = {numbers['weighted_sum_max']:.3g}"
        rf"\ \text{{at row {row}, column {col}}}",
        *shared,
    ]
