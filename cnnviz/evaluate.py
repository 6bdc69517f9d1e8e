"""Should I trust this heatmap? Measurements of attribution maps.

* Model randomisation (Adebayo et al. 2018): re-initialise the model's layers
  from the top down and recompute the map. A map that explains the *model* must
  change; if it stays the same (high rank correlation), it shows the image's
  edges, not what the network learned. Done on a CLONE: the shared model is
  never touched.
* Pointing game and energy inside the object, on ``make_shapes`` images whose
  masks are the ground truth: is the map's peak on the object, and what share of
  the map's mass lies on it? The object's area share is the score of a map that
  points at random.
* Deletion / insertion (Petsiuk et al. 2018): remove the pixels the map calls
  most relevant first; a faithful map makes the class probability fall fast
  (low area under the deletion curve). Insert them first into a blank image; it
  should rise fast (high area under the insertion curve). A random map is the
  reference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnviz import cam, probe
from cnnviz.errors import ModelError

# --------------------------------------------------------------------------- helpers


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation of two maps (nan when one of them is constant)."""
    from scipy.stats import spearmanr

    a, b = np.ravel(a), np.ravel(b)
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(spearmanr(a, b).statistic)


def _to_size(maps: np.ndarray, shape) -> np.ndarray:
    maps = np.asarray(maps, np.float32)
    if maps.shape[1:] == tuple(shape):
        return maps
    return cam.upsample(maps, shape)


def _flat_weighted_layers(model) -> list:
    """Layers that own weights, input side first, looking inside nested models."""
    return [layer for layer in probe.leaf_layers(model) if layer.weights]


# --------------------------------------------------------------------------- randomisation


def _layer_groups(clone, fresh) -> list[list[tuple]]:
    """(layer, fresh twin) pairs grouped per kernel layer, output side first: a layer
    without a kernel (BatchNorm) belongs to the conv/dense layer before it."""
    groups: list[list[tuple]] = []
    for pair in zip(_flat_weighted_layers(clone), _flat_weighted_layers(fresh), strict=True):
        has_kernel = any(w.ndim >= 2 for w in pair[0].get_weights())
        if has_kernel or not groups:
            groups.append([pair])
        else:
            groups[-1].append(pair)
    return groups[::-1]


@dataclass(frozen=True)
class RandomizationResult:
    """Cascading randomisation: step 0 is the trained model."""

    steps: list[str]  # "trained", then "up to <layer>" (all layers above re-initialised too)
    maps: np.ndarray  # (steps, n, h, w)
    correlations: np.ndarray  # (steps, n) Spearman with the trained model's map
    classes: np.ndarray  # (n,) the class explained (fixed across steps)


def _random_weights(layer, fresh_layer, rng) -> list[np.ndarray]:
    """New weights for ``layer``: kernels He-normal from ``rng``; vectors (biases,
    BatchNorm statistics) as a fresh layer initialises them."""
    new = []
    for w, f in zip(layer.get_weights(), fresh_layer.get_weights(), strict=True):
        if w.ndim >= 2:
            fan_in = int(np.prod(w.shape[:-1]))
            if w.ndim == 4 and w.shape[-1] == 1:  # depthwise kernel (k, k, c, 1)
                fan_in = int(np.prod(w.shape[:2]))
            new.append(rng.normal(0, np.sqrt(2.0 / max(fan_in, 1)), w.shape).astype(w.dtype))
        else:
            new.append(f)
    return new


def randomization_check(model, images, *, method: str = "gradcam", class_index=None,
                        layer=None, max_steps: int = 8, seed: int = 0,
                        **options) -> RandomizationResult:
    """Re-initialise the layers of a clone of ``model`` from the output down, one more
    layer (or group of layers, at most ``max_steps`` steps) each time, and compare each
    map with the trained model's map by Spearman rank correlation."""
    from cnnviz.models import copy_model

    x = cam.as_batch(images, model)
    original = cam.attribution(method, model, x, class_index=class_index, layer=layer, **options)
    classes = cam.resolve_classes(model, x, class_index)
    if layer is None and method in cam.CAM_METHODS:
        layer = cam.default_layer(model)

    clone = copy_model(model)
    fresh = copy_model(model, keep_weights=False)  # initial values of vectors (biases, BN)
    groups = _layer_groups(clone, fresh)
    if not groups:
        raise ModelError("The model has no weights to randomise.")
    # merge the groups (output side first) into at most max_steps cumulative steps
    cuts = np.unique(np.linspace(0, len(groups), min(max_steps, len(groups)) + 1).round()
                     .astype(int))[1:]
    rng = np.random.default_rng(seed)
    steps, maps = ["trained"], [original]
    done = 0
    try:
        for cut in cuts:
            for group in groups[done:cut]:
                for lyr, fl in group:
                    lyr.set_weights(_random_weights(lyr, fl, rng))
            done = cut
            steps.append(f"down to {groups[cut - 1][0][0].name}")
            maps.append(cam.attribution(method, clone, x, class_index=classes, layer=layer,
                                        **options))
    finally:
        probe.forget(clone)
        probe.forget(fresh)
    maps = np.stack(maps)
    corr = np.array([[spearman(maps[0][i], m[i]) for i in range(len(x))] for m in maps])
    return RandomizationResult(steps, maps, corr, classes)


# --------------------------------------------------------------------------- localisation


def pointing_game(maps: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """Per image: is the map's highest point on the object?

    The peak is found at the map's own resolution and its cell centre is looked up
    in the mask. (Taking the peak of a bilinearly upsampled map would favour the
    borders, where edge padding keeps the peak undiluted: a random 16x16 map then
    "points" at the object less often than chance.)
    """
    masks = np.asarray(masks, bool)
    maps = np.asarray(maps, np.float32)
    n, h, w = maps.shape
    flat = maps.reshape(n, -1)
    rows, cols = np.divmod(flat.argmax(axis=1), w)
    big_h, big_w = masks.shape[1:]
    y = np.minimum(((rows + 0.5) * big_h / h).astype(int), big_h - 1)
    x = np.minimum(((cols + 0.5) * big_w / w).astype(int), big_w - 1)
    # an all-zero map has no peak: it cannot point at the object
    return masks[np.arange(n), y, x] & (flat.max(axis=1) > 0)


def energy_inside(maps: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """Per image: the share of the map's total mass that lies on the object (0 for an
    all-zero map)."""
    masks = np.asarray(masks, bool)
    maps = np.maximum(_to_size(maps, masks.shape[1:]), 0)
    total = maps.reshape(len(maps), -1).sum(axis=1)
    inside = (maps * masks).reshape(len(maps), -1).sum(axis=1)
    return np.where(total > 0, inside / np.where(total > 0, total, 1), 0.0)


@dataclass(frozen=True)
class LocalisationScore:
    method: str
    pointing: float  # share of images whose map peak is on the object
    energy: float  # mean share of the map's mass on the object
    chance: float  # mean object area share: a random map's expected score for both
    n: int
    seconds: float
    deletion_auc: float = float("nan")  # mean, lower is better
    insertion_auc: float = float("nan")  # mean, higher is better


#: pseudo-method for localisation_scores: a uniform random map at 16x16, upsampled
RANDOM = "random"


def localisation_scores(model, shapes, methods=cam.CAM_METHODS + cam.INPUT_METHODS, *,
                        layer=None, options: dict | None = None, curve_steps: int = 0,
                        seed: int = 0) -> list[LocalisationScore]:
    """Pointing game and energy inside for each method, explaining each image's TRUE
    class (``shapes.labels``), with ``shapes.masks`` as the ground truth.

    ``curve_steps > 0`` also measures the mean deletion / insertion AUC. The method
    name ``"random"`` scores random maps (the reference every method must beat).
    """
    import time

    options = options or {}
    chance = float(np.asarray(shapes.masks).mean())
    out = []
    for method in methods:
        start = time.perf_counter()
        if method == RANDOM:
            maps = random_maps((len(shapes.labels), 16, 16), seed=seed)
        else:
            maps = cam.attribution(method, model, shapes.images, class_index=shapes.labels,
                                   layer=layer if method in cam.CAM_METHODS else None,
                                   **options.get(method, {}))
        seconds = time.perf_counter() - start
        aucs = (float("nan"), float("nan"))
        if curve_steps:
            c = deletion_insertion(model, shapes.images, maps, class_index=shapes.labels,
                                   steps=curve_steps, seed=seed)
            aucs = (float(c.deletion_auc.mean()), float(c.insertion_auc.mean()))
        out.append(LocalisationScore(
            method, float(pointing_game(maps, shapes.masks).mean()),
            float(energy_inside(maps, shapes.masks).mean()), chance, len(shapes.labels),
            seconds, *aucs))
    return out


# --------------------------------------------------------------------------- deletion


@dataclass(frozen=True)
class Curves:
    fractions: np.ndarray  # (steps + 1,) share of pixels removed / inserted
    deletion: np.ndarray  # (n, steps + 1) class probability as relevant pixels go
    insertion: np.ndarray  # (n, steps + 1) class probability as relevant pixels come
    deletion_auc: np.ndarray  # (n,) lower is better
    insertion_auc: np.ndarray  # (n,) higher is better


def _auc(y: np.ndarray, fractions: np.ndarray) -> np.ndarray:
    return ((y[:, 1:] + y[:, :-1]) / 2 * np.diff(fractions)).sum(axis=1)


def deletion_insertion(model, images, maps, *, class_index=None, steps: int = 16,
                       baseline: float | str = "mean", seed: int = 0) -> Curves:
    """Deletion and insertion curves of ``maps`` for ``images`` (preprocessed).

    Removed pixels get ``baseline`` in the preprocessed input space: "mean" (the
    image's mean colour) or a number. Ties in the map (e.g. zeros) are broken at
    random (``seed``), so a flat map behaves like a random one. Each image's
    ``steps + 1`` variants run as one batch.
    """
    x = cam.as_batch(images, model)
    maps = _to_size(np.asarray(maps, np.float32), x.shape[1:3])
    classes = cam.resolve_classes(model, x, class_index)
    rng = np.random.default_rng(seed)
    fractions = np.linspace(0, 1, steps + 1)
    n_pix = x.shape[1] * x.shape[2]
    dels, ins = [], []
    for i in range(len(x)):
        fill = x[i].mean(axis=(0, 1)) if baseline == "mean" else np.float32(baseline)
        blank = np.broadcast_to(fill, x[i].shape).astype(np.float32)
        jitter = rng.random(n_pix) * 1e-6
        order = np.argsort(-(maps[i].ravel() + jitter), kind="stable")
        rank = np.empty(n_pix, int)
        rank[order] = np.arange(n_pix)
        rank = rank.reshape(x.shape[1:3])
        chosen = np.stack([rank < round(f * n_pix) for f in fractions])[..., None]
        deleted = np.where(chosen, blank, x[i])
        inserted = np.where(chosen, x[i], blank)
        p = cam.class_probability(cam.predict_logits(model, np.concatenate([deleted, inserted])),
                                  classes[i])
        dels.append(p[: steps + 1])
        ins.append(p[steps + 1:])
    dels, ins = np.stack(dels), np.stack(ins)
    return Curves(fractions, dels, ins, _auc(dels, fractions), _auc(ins, fractions))


def random_maps(shape, *, seed: int = 0) -> np.ndarray:
    """Uniform random maps: the reference a real explanation must beat."""
    return np.random.default_rng(seed).random(shape).astype(np.float32)


# --------------------------------------------------------------------------- verdicts
# Each check's outcome in one sentence, computed from its numbers with a stated threshold.

#: The randomisation check passes when, once every layer is re-initialised, the map's
#: Spearman correlation with the trained model's map is below this.
SANITY_RHO = 0.5
#: A map beats a random one on a deletion or insertion curve by at least this much area.
CURVE_MARGIN = 0.05
#: A method localises objects when its pointing game is at least this many times chance.
LOCALISES = 2.0


def randomization_sentence(result: RandomizationResult, title: str, image: int = 0) -> str:
    """Did the map change when the learned weights were destroyed? (:data:`SANITY_RHO`)"""
    last = float(result.correlations[-1, image])
    if np.isnan(last):
        return (f"Once every layer is re-initialised the {title} map is flat: it changed "
                "completely, so it depends on what the network learned.")
    if last < SANITY_RHO:
        return (f"Once every layer is re-initialised the {title} map's rank correlation "
                f"with the trained map is {last:.2f} (under {SANITY_RHO:g}): the map "
                "depends on what the network learned.")
    return (f"Once every layer is re-initialised the {title} map's rank correlation with the "
            f"trained map is still {last:.2f} (at least {SANITY_RHO:g}): the map barely "
            "depends on the learned weights; it may show the image's edges, not the model.")


def curves_sentence(title: str, deletion: float, insertion: float, random_deletion: float,
                    random_insertion: float) -> str:
    """Is the map faithful on one image's deletion and insertion curves, compared with a
    random map? (:data:`CURVE_MARGIN`)"""
    falls = deletion <= random_deletion - CURVE_MARGIN
    rises = insertion >= random_insertion + CURVE_MARGIN
    numbers = (f"deletion area {deletion:.2f} vs {random_deletion:.2f} for a random map, "
               f"insertion {insertion:.2f} vs {random_insertion:.2f}")
    if falls and rises:
        verdict = "faithful on this image: its top pixels matter more than random ones"
    elif falls or rises:
        verdict = (f"faithful on this image on the {'deletion' if falls else 'insertion'} "
                   "curve only")
    else:
        verdict = ("no better than a random map on this image; one image is noisy, so see "
                   "the averages over many shapes")
    return (f"The {title} map is {verdict} ({numbers}; a margin of {CURVE_MARGIN:g} "
            "counts).")


def localisation_sentence(scores: list[LocalisationScore], titles: dict) -> str:
    """Which methods find the objects on single shapes better than chance? (:data:`LOCALISES`)"""
    real = sorted((s for s in scores if s.method != RANDOM), key=lambda s: -s.pointing)
    if not real:
        return "Pick at least one method to score."
    chance = real[0].chance
    best, worst = real[0], real[-1]

    def title(score):
        return titles.get(score.method, score.method)

    head = f"On {best.n} shapes the map's peak is on the object for {title(best)} " \
           f"{best.pointing:.0%} of the time"
    if worst is not best:
        head += f", down to {worst.pointing:.0%} for {title(worst)}"
    below = [title(s) for s in real if s.pointing < LOCALISES * s.chance]
    tail = (f"every method finds the object at least {LOCALISES:g}× as often as chance"
            if not below else
            f"under {LOCALISES:g}× chance, no real help in finding the object: "
            + ", ".join(below))
    return f"{head}; chance is {chance:.0%} (the object's area): {tail}."
