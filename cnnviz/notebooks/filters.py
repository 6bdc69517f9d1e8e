"""The code and the maths behind the Filters page, for one view: batched gradient ascent
with the page's settings, continued as often as on the page."""

from __future__ import annotations

from cnnviz.notebooks.common import image_code
from cnnviz.views import View


def numbers(result, rf=None) -> dict:
    """The page's numbers for one run (a ``filters.FilterResult``; ``rf`` the layer's
    ``receptive.LayerRF`` or None): what its code prints, what the tests compare."""
    from cnnviz import filters

    summary = filters.summarise_ascent(result.history, result.filter_indices)
    out = {
        "layer": result.layer_name,
        "filters": [int(f) for f in result.filter_indices],
        "steps": int(result.steps_done),
        "median_start": round(summary.start, 4),
        "median_end": round(summary.end, 4),
        "trend": summary.trend,
        "rose": len(summary.rose),
        "never_fired": [int(f) for f in summary.never_fired],
        "final_activation": [round(float(v), 3) for v in result.history[-1]],
    }
    if rf is not None:
        out["receptive_field"] = int(rf.size)
    return out


def code(view: View) -> str:
    """Python that reproduces the view: the same filters, settings and continuations,
    then the gradient-ascent step written out with a ``tf.GradientTape``; its numbers
    cell builds ``numbers``, the page's numbers."""
    model, layer = view["model"], view["layer"]
    if view["how"] == "range":
        choose = (f"filter_indices = list(range({view['first']}, min({view['first']} + "
                  f"{view['n']}, channels)))  # a range of filters")
    else:
        choose = ("x = models.prepare(" + repr(model) + ", image).x\n"
                  f"filter_indices = filters.most_active_filters(model, {layer!r}, x, "
                  f"{view['n']})  # the most active on the image")
    regs = (f"jitter={view['jitter']}, scale={view['rzoom']!r}, rotate={view['rrot']!r}, "
            f"tv={view['tv']!r}, l2={view['l2']!r}, blur_every={view['blur']}, "
            f"blur_sigma={view['sigma']!r}, fourier={view['fourier']!r}")
    runs = view["cont"] + 1
    return (
        "# %% The model, the layer and its filters\n"
        "import numpy as np\n\n"
        "from cnnviz import filters, models, probe, receptive\n"
        + image_code(view)
        + f"\n\nmodel = models.load_model({model!r})\n"
        f"channels = {{i.name: i.channels for i in probe.feature_layers(model)}}[{layer!r}]\n"
        + choose + "\nprint('filters', filter_indices)\n\n"
        "# %% Gradient ascent: all filters at once, one image each\n"
        f"settings = dict(size=128, steps={view['steps']}, learning_rate={view['lr']!r}, "
        f"seed={view['aseed']},\n"
        f"                preprocess=filters.preprocess_mode({model!r}),\n"
        f"                {regs})\n"
        f"result = None\nfor run in range({runs}):  # the first run"
        + (f", then {runs - 1} continuation(s)" if runs > 1 else "")
        + f"\n    result = filters.visualize_with_history(model, {layer!r}, filter_indices, "
        "start=result,\n"
        "                                            **settings)\n"
        "print(result.images.shape, 'after', result.steps_done, 'steps')\n"
        "# result.images: uint8 (n, 128, 128, 3), one picture per filter (plt.imshow)\n\n"
        "# %% One step by hand: raise the chosen filters' mean activations\n"
        "import tensorflow as tf\n\n"
        f"feature_model = probe.feature_model(model, [{layer!r}])\n"
        "images = tf.Variable(filters.initial_params(filter_indices, *filters."
        "optimisation_size(model, 128)))\n"
        "with tf.GradientTape() as tape:\n"
        "    maps = feature_model(images, training=False)\n"
        "    act = tf.gather(maps, filter_indices, axis=3, batch_dims=1)  # image i -> filter i\n"
        "    loss = tf.reduce_sum(tf.reduce_mean(act, axis=[1, 2]))\n"
        "grads = tf.math.l2_normalize(tape.gradient(loss, images), axis=[1, 2, 3])\n"
        f"images.assign_add({view['lr']!r} * grads)  # each image on its own\n"
        "print('one step: mean activation per filter', np.round(act.numpy().mean(axis=(1, 2)), 3))"
        "\n\n"
        "# %% The numbers on the page\n"
        "from cnnviz.notebooks.filters import numbers as page_numbers\n\n"
        "fields = {r.name: r for r in receptive.receptive_fields(model)}\n"
        f"numbers = page_numbers(result, fields.get({layer!r}))\n"
        "print(numbers)\n"
    )


def maths(view: View, numbers: dict) -> list[str]:
    """The update rule with the view's numbers filled in (LaTeX)."""
    lr = f"{float(view['lr']):g}"
    return [
        r"a_k(x) = \frac{1}{HW}\sum_{i,j} A_{ijk}(x), \qquad x \leftarrow x + \eta\,"
        r"\frac{\nabla_x a_k(x)}{\lVert \nabla_x a_k(x) \rVert_2}",
        rf"\eta = {lr}, \quad \text{{steps}} = {numbers['steps']}, \quad "
        rf"\mathrm{{median}}_k\, a_k:\ {numbers['median_start']:.3g} \rightarrow "
        rf"{numbers['median_end']:.3g}",
    ]
