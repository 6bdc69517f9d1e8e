"""Is Grad-CAM class-discriminative? The maps of several classes of one image on one
scale, and the pointing game per class on scenes of several shapes.

A Grad-CAM map explains one class. Two things can hide whether it tells classes
apart, and this module measures around both:

* **Each map scaled to its own maximum.** Then a class with p = 0.1 % looks as
  strong as the predicted one. :func:`compare_classes` keeps every compared map in
  its raw units (ReLU(Σα·A), logit per position) and divides them all by the
  largest peak among them (:attr:`ClassComparison.shared`), so a weak class looks
  weak and each map's raw peak can be printed beside it. A map that is almost
  nothing (:func:`map_status`: its peak under :data:`NEAR_EMPTY` of the strongest
  compared map, or of its own largest |Σα·A|) is called *near-empty* instead of
  being stretched to full colour.
* **One object in the image.** Then every class's map can only point at it.
  :func:`make_scenes` draws scenes of two or three shapes of different classes, each
  with its own mask (``cnnviz.data.make_scene``); :func:`scene_pointing` asks, for
  the map of each object's class, whether its peak lies on *that* object, on another
  object, or on the background. Chance is the object's share of the image.

Example (the built-in model, a square and a star; measured)::

    scene = make_scene(["square", "star"], seed=0)
    comparison = compare_classes(model, scene.image, (1, 3))  # square, star
    comparison.peaks            # about [0.34, 0.30]: both maps are strong
    [peak_object(m, scene.masks) for m in comparison.shared]   # [0, 1]: each on its own
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cnnviz import cam, evaluate
from cnnviz.data import SOURCE_CLASSES, make_scene

#: A map is near-empty when its peak is under this share of the strongest compared
#: map's peak, or of its own largest |Σα·A| (almost all of it speaks against the class).
NEAR_EMPTY = 0.05
#: A method tells objects apart when a class's map peaks on that class's object at least
#: this many times as often as on another object, and as often as chance (area share).
DISCRIMINATIVE = 2.0
#: Below this share of hits on its own object, a class is named as a weak one.
WEAK_CLASS = 0.5


# --------------------------------------------------------------------------- one image


@dataclass(frozen=True)
class MapStatus:
    """Whether a map has anything to show: ``kind`` is "" (it has), "empty" or
    "near-empty"; ``reason`` says why, with the numbers and the threshold."""

    kind: str
    reason: str = ""

    def __bool__(self) -> bool:  # true when the map is empty or near-empty
        return bool(self.kind)


def map_status(peak: float, magnitude: float, strongest: float | None = None) -> MapStatus:
    """Empty (nothing survives ReLU), near-empty, or a map to show.

    ``peak``: the map's maximum after ReLU; ``magnitude``: its largest |Σα·A| before
    ReLU; ``strongest``: the largest peak among the maps it is compared with.
    """
    if not peak > 0:
        return MapStatus("empty", "Σα·A is zero or negative everywhere: nothing at this "
                                  "layer speaks for the class")
    if magnitude > 0 and peak < NEAR_EMPTY * magnitude:
        return MapStatus("near-empty", f"its peak {peak:.2g} is under {NEAR_EMPTY:.0%} of "
                                       f"its largest |Σα·A| ({magnitude:.2g}): almost all "
                                       "of it speaks against the class")
    if strongest is not None and peak < NEAR_EMPTY * strongest:
        return MapStatus("near-empty", f"its peak {peak:.2g} is under {NEAR_EMPTY:.0%} of "
                                       f"the strongest map's ({strongest:.2g})")
    return MapStatus("")


@dataclass(frozen=True)
class ClassComparison:
    """Grad-CAM for several classes of ONE image at one layer, on one shared scale."""

    layer: str
    classes: tuple[int, ...]  # the compared classes, in the order they are shown
    top_class: int  # the predicted class
    logits: np.ndarray  # (num_classes,) of the image
    signed: np.ndarray  # (k, h, w) Σα·A of each compared class, before ReLU

    @property
    def relu(self) -> np.ndarray:
        return np.maximum(self.signed, 0.0)

    @property
    def peaks(self) -> np.ndarray:
        """Each map's raw peak after ReLU (logit per position)."""
        return self.relu.reshape(len(self.classes), -1).max(axis=1)

    @property
    def magnitudes(self) -> np.ndarray:
        """Each map's largest |Σα·A| before ReLU."""
        return np.abs(self.signed).reshape(len(self.classes), -1).max(axis=1)

    @property
    def scale(self) -> float:
        """The top of the shared scale: the largest peak among the compared maps."""
        top = float(self.peaks.max()) if len(self.classes) else 0.0
        return top if top > 0 else 1.0

    @property
    def shared(self) -> np.ndarray:
        """Every map divided by :attr:`scale`: (k, h, w) in [0, 1], weak maps stay faint."""
        return (self.relu / self.scale).astype(np.float32)

    def index(self, class_index: int) -> int:
        return self.classes.index(int(class_index))

    def status(self, i: int) -> MapStatus:
        """Map ``i``'s status against the strongest compared map (:func:`map_status`)."""
        return map_status(float(self.peaks[i]), float(self.magnitudes[i]),
                          float(self.peaks.max()))


def compared_classes(probabilities, *, objects: Sequence[int] = (), chosen: int | None = None,
                     top: int = 3) -> tuple[int, ...]:
    """The classes whose maps are compared: on a scene its objects' classes, else the
    ``top`` most probable; then the predicted class and ``chosen`` if they are missing."""
    order = [int(c) for c in np.argsort(-np.asarray(probabilities), kind="stable")]
    picked = [int(c) for c in objects] if len(objects) else order[:top]
    for extra in (order[0], chosen):
        if extra is not None and int(extra) not in picked:
            picked.append(int(extra))
    return tuple(dict.fromkeys(picked))


def compare_classes(model, image, classes: Sequence[int], *, layer=None,
                    pooling: str = "mean") -> ClassComparison:
    """Grad-CAM of one preprocessed image (batch of 1, or (H, W, 3)) for each of
    ``classes``, at ``layer``, in one batch."""
    x = cam.as_batch(image, model)[:1]
    classes = tuple(int(c) for c in classes)
    steps = cam.gradcam_steps(model, np.repeat(x, len(classes), axis=0),
                              class_index=np.array(classes), layer=layer, pooling=pooling)
    return ClassComparison(steps.layer, classes, int(np.argmax(steps.logits[0])),
                           steps.logits[0], steps.weighted_sum.astype(np.float32))


def peak_object(heat: np.ndarray, masks: np.ndarray) -> int:
    """The index of the object mask (k, H, W) that holds the map's peak (found at the
    map's own resolution, as the pointing game does); -1 for the background or an
    empty map."""
    for j, mask in enumerate(np.asarray(masks, bool)):
        if evaluate.pointing_game(np.asarray(heat)[None], mask[None])[0]:
            return j
    return -1


def where_it_points(class_name: str, pointed: int, objects: Sequence[str]) -> tuple[str, bool]:
    """(words, right) for where a class's map peaks in a scene of ``objects``:
    ("on the square", True), ("on the star, not the square", False)..."""
    if pointed < 0:
        where = "on the background"
    else:
        where = f"on the {objects[pointed]}"
    if class_name not in objects:
        return f"no {class_name} in the scene; {where}", False
    right = pointed >= 0 and objects[pointed] == class_name
    return (where if right else f"{where}, not the {class_name}"), right


def scene_sentence(objects: Sequence[str], pointed: dict[str, int], layer: str,
                   empty: Sequence[str] = ()) -> str:
    """One sentence on whether each object's class has its map on its own object
    (``pointed``: class name -> :func:`peak_object` of its map; ``empty``: the classes
    whose map has nothing after ReLU)."""
    present = [c for c in dict.fromkeys(objects) if c in pointed]
    blank = [c for c in present if c in empty]
    if blank:
        return (f"The map for {blank[0]} is empty at {layer}: nothing there speaks for "
                f"{blank[0]}, so it cannot point at its object. Try a deeper layer.")
    wrong = [c for c in present if not where_it_points(c, pointed[c], objects)[1]]
    if not wrong:
        listed = ", the ".join(present[:-1]) + (" and the " if len(present) > 1 else "") \
            + present[-1]
        return (f"Each class's map peaks on its own object at {layer}: Grad-CAM tells the "
                f"{listed} apart here (peak inside the object's mask).")
    c = wrong[0]
    where = where_it_points(c, pointed[c], objects)[0].split(",")[0]
    more = f" (and {len(wrong) - 1} more)" if len(wrong) > 1 else ""
    return (f"The map for {c} peaks {where}, not on the {c}{more}: at {layer} the evidence "
            f"the model uses for {c} lies there. A model that confuses two shapes does this; "
            "try another layer or seed.")


# --------------------------------------------------------------------------- many scenes


@dataclass(frozen=True)
class Scenes:
    """A batch of scenes, each with ``objects`` shapes of different classes."""

    images: np.ndarray  # float32 (n, size, size, 3) in [0, 1]
    labels: np.ndarray  # int (n, k): object j's class in class_names
    masks: np.ndarray  # bool (n, k, size, size): object j's pixels
    class_names: tuple[str, ...]
    seed: int

    def __len__(self) -> int:
        return len(self.labels)


def make_scenes(n: int, *, objects: int = 2, seed: int = 0,
                class_names: Sequence[str] = SOURCE_CLASSES, size: int = 64) -> Scenes:
    """``n`` scenes of ``objects`` shapes of different classes, picked at random from
    ``class_names`` (which must be shape classes); the same ``seed`` gives the same
    scenes."""
    class_names = tuple(class_names)
    rng = np.random.default_rng(seed)
    images, labels, masks = [], [], []
    for _ in range(n):
        picked = rng.choice(len(class_names), size=objects, replace=False)
        scene = make_scene([class_names[i] for i in picked], size=size,
                           seed=int(rng.integers(2**31)), class_names=class_names)
        images.append(scene.image)
        labels.append(scene.labels)
        masks.append(scene.masks)
    return Scenes(np.stack(images), np.stack(labels), np.stack(masks), class_names, seed)


@dataclass(frozen=True)
class ScenePointing:
    """The pointing game per class on scenes, for one method."""

    method: str
    own: float  # share of maps whose peak is on the explained class's object
    other: float  # share of maps whose peak is on another object of the scene
    chance: float  # the explained object's mean share of the image: a random map's score
    per_class: dict  # class name -> (share on its own object, number of maps)
    maps: int
    seconds: float


def scene_pointing(model, scenes: Scenes, methods: Sequence[str], *, layer=None,
                   options: dict | None = None, seed: int = 0) -> list[ScenePointing]:
    """For each method, explain every object's class in every scene and ask where the
    map's peak lies. ``"random"`` (:data:`cnnviz.evaluate.RANDOM`) scores random maps."""
    options = options or {}
    n, k = scenes.labels.shape
    out = []
    for method in methods:
        start = time.perf_counter()
        own, other = [], []
        for j in range(k):
            if method == evaluate.RANDOM:
                maps = evaluate.random_maps((n, 16, 16), seed=seed + j)
            else:
                maps = cam.attribution(method, model, scenes.images,
                                       class_index=scenes.labels[:, j],
                                       layer=layer if method in cam.CAM_METHODS else None,
                                       **options.get(method, {}))
            others = np.delete(scenes.masks, j, axis=1).any(axis=1)
            own.append(evaluate.pointing_game(maps, scenes.masks[:, j]))
            other.append(evaluate.pointing_game(maps, others))
        own, other = np.stack(own, axis=1), np.stack(other, axis=1)  # (n, k)
        per_class = {}
        for c, name in enumerate(scenes.class_names):
            hits = own[scenes.labels == c]
            if hits.size:
                per_class[name] = (float(hits.mean()), int(hits.size))
        out.append(ScenePointing(method, float(own.mean()), float(other.mean()),
                                 float(scenes.masks.mean(axis=(2, 3)).mean()), per_class,
                                 int(own.size), time.perf_counter() - start))
    return out


def discriminates(score: ScenePointing) -> bool:
    """The rule for "tells the objects apart" (:data:`DISCRIMINATIVE`)."""
    return (score.own >= DISCRIMINATIVE * score.other
            and score.own >= DISCRIMINATIVE * score.chance)


def pointing_sentence(score: ScenePointing, title: str) -> str:
    """One sentence on a method's pointing game per class, with its threshold."""
    numbers = (f"{title}: a class's map peaks on that class's object in {score.own:.0%} of "
               f"{score.maps} maps, on another object in {score.other:.0%} (chance "
               f"{score.chance:.0%}, the object's area)")
    if discriminates(score):
        verdict = "it tells the objects apart"
    else:
        verdict = ("it does not reliably tell the objects apart (the rule: at least "
                   f"{DISCRIMINATIVE:g}× as often on its own object as on another, and "
                   f"{DISCRIMINATIVE:g}× chance)")
    weak = [f"{name} ({share:.0%})" for name, (share, _) in score.per_class.items()
            if share < WEAK_CLASS]
    tail = (f". Under {WEAK_CLASS:.0%} on its own object: {', '.join(weak)}" if weak else "")
    return f"{numbers}, so {verdict}{tail}."


# --------------------------------------------------------------------------- layers


#: Two maps with at least this Spearman correlation rank the positions alike ("the same
#: whatever the class"); under :data:`DIFFERENT_RANKING` they are "class-specific".
SAME_RANKING = 0.8
DIFFERENT_RANKING = 0.5


def specificity_words(rho: float) -> str:
    """How alike two classes' maps are, in words, from their Spearman correlation."""
    if np.isnan(rho):
        return "one map is flat"
    if rho >= SAME_RANKING:
        return "nearly the same whatever the class"
    if rho < DIFFERENT_RANKING:
        return "class-specific"
    return "partly class-specific"


def layers_sentence(rhos: dict[str, float], class_name: str, other_name: str) -> str:
    """Where along the network the maps of two classes differ most, from each layer's
    Spearman correlation between them (:data:`SAME_RANKING`, :data:`DIFFERENT_RANKING`)."""
    known = {layer: rho for layer, rho in rhos.items() if not np.isnan(rho)}
    if not known:
        return f"The maps for {class_name} and {other_name} are flat at every layer shown."
    most, least = min(known, key=known.get), max(known, key=known.get)
    head = (f"The maps for {class_name} and {other_name} differ most at {most} "
            f"(ρ = {known[most]:.2f}, {specificity_words(known[most])})")
    if least != most:
        head += (f" and are most alike at {least} (ρ = {known[least]:.2f}, "
                 f"{specificity_words(known[least])})")
    return (f"{head}; ρ ≥ {SAME_RANKING:g} counts as the same whatever the class, "
            f"under {DIFFERENT_RANKING:g} as class-specific.")


def absent_sentence(class_name: str, probability: float, pointed: int,
                    objects: Sequence[str]) -> str:
    """A compared class with no object in the scene (often the predicted one): where its
    evidence lies."""
    where = "on the background" if pointed < 0 else f"on the {objects[pointed]}"
    return (f"There is no {class_name} in the image, yet p({class_name}) = "
            f"{probability:.0%}: its map peaks {where}, where the model finds its evidence.")


def single_object_sentence(object_name: str, hits: Sequence[bool]) -> str:
    """What the compared maps show on an image of ONE object (``hits``: whether each
    non-empty map peaks on it)."""
    if hits and all(hits):
        return (f"Every compared map peaks on the {object_name}, even for unlikely classes: "
                "with one object each map can only point at it. The shared scale shows how "
                "weak their evidence is; a scene of two shapes shows whether the maps tell "
                "classes apart.")
    missed = len(hits) - sum(hits)
    verb, who = ("peaks", "it finds its") if missed == 1 else ("peak", "they find their")
    return (f"{missed} of the {len(hits)} compared maps {verb} off the {object_name}: {who} "
            "evidence in the background. A scene of two shapes shows whether the maps tell "
            "classes apart.")
