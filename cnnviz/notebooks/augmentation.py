"""The code and the maths behind the Augmentation page, for one view: the pipeline as
Keras layers, each layer measured at inference, and the with/without experiment with
its computed conclusions."""

from __future__ import annotations

from cnnviz.views import View


def numbers(spec, effects, result=None) -> dict:
    """The page's numbers: the pipeline, each layer at inference and, once an experiment
    ran, its per-seed validation accuracies, gain, threshold and verdict."""
    from cnnviz import augment
    from cnnviz.training import augmentation as experiment

    out = {
        "pipeline": augment.describe(spec),
        "layers": [e.name for e in effects],
        "identity_at_inference": [bool(e.identity_at_inference) for e in effects],
    }
    comparison = experiment.compare(result) if result is not None else None
    if comparison is not None:
        verdict = experiment.conclusions(comparison)["verdict"]
        out |= {
            "val_without": [round(v, 4) for v in comparison.val_without],
            "val_with": [round(v, 4) for v in comparison.val_with],
            "gain": round(comparison.gain, 4),
            "threshold": round(comparison.threshold, 4),
            "verdict": verdict.split("**")[1].lower(),
        }
    return out


def view_spec(view: View) -> list[list]:
    from cnnviz.views.augmentation import spec_of

    return spec_of(view)


def code(view: View) -> str:
    """Python that reproduces the view: the pipeline's Keras code as the page shows it,
    the per-layer check, then the experiment (which trains: minutes at the defaults)."""
    from cnnviz import augment
    from cnnviz.training.augmentation import AugmentSettings

    spec = view_spec(view)
    size = AugmentSettings().size
    return (
        "# %% A training batch and the pipeline, as Keras layers\n"
        "import numpy as np\n\n"
        "from cnnviz import augment\n"
        "from cnnviz.training import data as training_data\n\n"
        f"images = training_data.load_split('shapes', n_train=4, n_val=1, size={size}, "
        "seed=0).x_train[:8]\n"
        + augment.keras_code(spec, (size, size), seed=view["draw"])
        + "print('training:', train_batch.shape, ' inference: largest change',\n"
        "      float(np.abs(np.asarray(val_batch) - images).max()))\n\n"
        "# %% Each layer at inference: layer(x, training=False) against x\n"
        f"spec = {spec!r}\n"
        f"effects = augment.inference_effects(spec, images, seed={view['draw']})\n"
        "for e in effects:\n"
        "    print(f'{e.name:18s} training: {e.in_training:.3f}  inference: '\n"
        "          f'{e.at_inference:.3f}  identity: {e.identity_at_inference}')\n"
        "print(augment.inference_sentence(effects))\n\n"
        "# %% The experiment: the same CNN without and with the pipeline (this trains)\n"
        "from cnnviz.training import augmentation as experiment\n\n"
        f"settings = experiment.AugmentSettings(\n"
        f"    dataset={view['ds']!r}, n_train={view['n']}, epochs={view['ep']}, "
        f"seed={view['eseed']}, seeds={view['seeds']},\n"
        f"    batch_size={view['bs']}, learning_rate={view['lr']!r}, spec=spec)\n"
        "result = experiment.run(settings)\n"
        "comparison = experiment.compare(result)\n"
        "for sentence in experiment.conclusions(comparison).values():\n"
        "    print(sentence)\n\n"
        "# %% The numbers on the page\n"
        "from cnnviz.notebooks.augmentation import numbers as page_numbers\n\n"
        "numbers = page_numbers(spec, effects, result)\n"
        "print(numbers)\n"
    )


def maths(view: View, numbers: dict) -> list[str]:
    """The verdict's rule, with the view's numbers filled in once the experiment ran."""
    lines = [
        r"g_s = \mathrm{acc}^{\mathrm{val}}_{\mathrm{with},s} - "
        r"\mathrm{acc}^{\mathrm{val}}_{\mathrm{without},s}, \qquad \bar g = "
        r"\frac{1}{k}\sum_{s=1}^{k} g_s",
        r"\theta = \max\left(1.96\sqrt{\frac{2\cdot\frac14}{N\,k}},\ \max_s g_s - "
        r"\min_s g_s\right), \qquad \text{helped if } \bar g > \theta,\ "
        r"\text{hurt if } \bar g < -\theta",
    ]
    if "gain" in numbers:
        lines.append(rf"\bar g = {100 * numbers['gain']:+.1f}\ \text{{points}}, \quad "
                     rf"\theta = {100 * numbers['threshold']:.1f}\ \text{{points}} "
                     rf"\Rightarrow \text{{{numbers['verdict']}}}")
    return lines
