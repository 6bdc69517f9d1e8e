"""Synthetic shapes with exact object masks: the ground truth the probing pages rely on.

Each image of ``make_shapes`` holds exactly one object on a cluttered background
and its mask says which pixels belong to it, so "did the model look at the
object?" has a measurable answer; ``make_scene`` puts several objects of
different classes into one image, each with its own mask ("does the map for
*this* class point at *this* object?").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnviz.errors import DatasetError

#: All shape classes ``make_shapes`` can draw. The built-in model is trained on
#: the first five (``SOURCE_CLASSES``); the others are new classes for transfer
#: learning that look like the source ones (same kind of picture, new objects).
SHAPE_CLASSES = (
    "circle", "square", "triangle", "star", "cross", "ring", "hexagon", "crescent",
)
SOURCE_CLASSES = SHAPE_CLASSES[:5]
NEW_SHAPE_CLASSES = SHAPE_CLASSES[5:]


@dataclass(frozen=True)
class Shapes:
    """A batch of shape images with labels and object masks."""

    images: np.ndarray  # float32 (n, size, size, 3) in [0, 1]
    labels: np.ndarray  # int64 (n,), index into class_names
    masks: np.ndarray  # bool (n, size, size), True on the object
    class_names: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.labels)


def _polygon_mask(size: int, points: np.ndarray) -> np.ndarray:
    from skimage.draw import polygon

    mask = np.zeros((size, size), dtype=bool)
    rr, cc = polygon(points[:, 1], points[:, 0], shape=(size, size))
    mask[rr, cc] = True
    return mask


def _regular_polygon(n: int, cx, cy, r, angle, inner: float | None = None) -> np.ndarray:
    """Vertices of a regular polygon (or a star when ``inner`` is given)."""
    if inner is None:
        t = angle + 2 * np.pi * np.arange(n) / n
        radii = np.full(n, r)
    else:
        t = angle + np.pi * np.arange(2 * n) / n
        radii = np.where(np.arange(2 * n) % 2 == 0, r, r * inner)
    return np.stack([cx + radii * np.cos(t), cy + radii * np.sin(t)], axis=1)


def _shape_mask(name: str, size: int, cx, cy, r, angle) -> np.ndarray:
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    dx, dy = xx - cx, yy - cy
    # coordinates in the shape's own rotated frame
    u = dx * np.cos(angle) + dy * np.sin(angle)
    v = -dx * np.sin(angle) + dy * np.cos(angle)
    dist = np.hypot(dx, dy)
    if name == "circle":
        return dist <= r
    if name == "ring":
        return (dist <= r) & (dist >= 0.55 * r)
    if name == "crescent":
        shift = 0.5 * r
        return (dist <= r) & (np.hypot(u - shift, v) > 0.85 * r)
    if name == "square":
        half = r / np.sqrt(2)
        return (np.abs(u) <= half) & (np.abs(v) <= half)
    if name == "cross":
        arm = 0.3 * r
        return ((np.abs(u) <= arm) & (np.abs(v) <= r)) | ((np.abs(v) <= arm) & (np.abs(u) <= r))
    if name == "triangle":
        return _polygon_mask(size, _regular_polygon(3, cx, cy, r, angle))
    if name == "hexagon":
        return _polygon_mask(size, _regular_polygon(6, cx, cy, r, angle))
    if name == "star":
        return _polygon_mask(size, _regular_polygon(5, cx, cy, r, angle, inner=0.42))
    raise DatasetError(f"Unknown shape class {name!r}; choose from {', '.join(SHAPE_CLASSES)}.")


def _cluttered_background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A smooth random colour field plus thin lines and specks: texture, no shapes."""
    from scipy.ndimage import gaussian_filter

    coarse = rng.random((size, size, 3))
    background = gaussian_filter(coarse, sigma=(size / 8, size / 8, 0))
    background = (background - background.min()) / (np.ptp(background) + 1e-8)
    background = 0.25 + 0.4 * background
    yy, xx = np.mgrid[0:size, 0:size]
    for _ in range(rng.integers(2, 5)):  # straight lines crossing the image
        theta = rng.uniform(0, np.pi)
        offset = rng.uniform(-size / 2, size / 2)
        d = (xx - size / 2) * np.cos(theta) + (yy - size / 2) * np.sin(theta) - offset
        background[np.abs(d) < 0.6] = rng.uniform(0, 1, 3)
    specks = rng.random((size, size)) < 0.01
    background[specks] = rng.uniform(0, 1, (int(specks.sum()), 3))
    return background


def make_shapes(
    n: int,
    *,
    size: int = 64,
    seed: int = 0,
    classes: tuple[str, ...] | list[str] | None = None,
) -> Shapes:
    """Draw ``n`` images, each one shape on a cluttered background.

    Position, size, rotation and colour are random; the same ``seed`` always
    gives the same images. Labels cycle through ``classes`` in a shuffled order,
    so every class is (almost) equally frequent.
    """
    class_names = tuple(classes) if classes is not None else SOURCE_CLASSES
    unknown = [c for c in class_names if c not in SHAPE_CLASSES]
    if unknown or not class_names:
        raise DatasetError(
            f"Unknown shape classes {unknown}; choose from {', '.join(SHAPE_CLASSES)}."
        )
    if n < 0 or size < 16:
        raise DatasetError("make_shapes needs n >= 0 and size >= 16 pixels.")
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % len(class_names))
    images = np.empty((n, size, size, 3), dtype=np.float32)
    masks = np.empty((n, size, size), dtype=bool)
    for i, label in enumerate(labels):
        image = _cluttered_background(rng, size)
        r = rng.uniform(0.16, 0.3) * size
        cx, cy = rng.uniform(r + 1, size - r - 1, 2)
        masks[i] = _draw(image, rng, class_names[label], cx, cy, r)
        images[i] = np.clip(image + rng.normal(0, 0.02, image.shape), 0, 1)
    return Shapes(images=images, labels=labels.astype(np.int64), masks=masks,
                  class_names=class_names)


def _draw(image: np.ndarray, rng: np.random.Generator, name: str, cx, cy, r) -> np.ndarray:
    """Paint one shape onto ``image`` (in place) in a colour that stands out from the
    background under it; return its mask."""
    size = image.shape[0]
    mask = _shape_mask(name, size, cx, cy, r, rng.uniform(0, 2 * np.pi))
    colour = rng.uniform(0, 1, 3)
    local = image[mask].mean(axis=0) if mask.any() else image.mean(axis=(0, 1))
    if np.abs(colour - local).sum() < 0.9:
        colour = np.where(local > 0.5, rng.uniform(0, 0.15, 3), rng.uniform(0.85, 1, 3))
    image[mask] = colour
    return mask


def _apart(rng: np.random.Generator, k: int, size: int) -> list[tuple[float, float, float]]:
    """(cx, cy, r) for ``k`` shapes that do not touch: whole layouts are drawn until one
    fits (rejection sampling), so the result depends on the seed alone."""
    for _ in range(2000):
        radii = rng.uniform(0.16, 0.2, k) * size
        centres = [rng.uniform(r + 1, size - r - 1, 2) for r in radii]
        if all(np.hypot(*(centres[i] - centres[j])) > radii[i] + radii[j] + 2
               for i in range(k) for j in range(i)):
            return [(float(c[0]), float(c[1]), float(r)) for c, r in zip(centres, radii)]
    raise DatasetError(f"{k} shapes do not fit apart on {size} pixels.")


@dataclass(frozen=True)
class Scene:
    """One image holding several shapes, each with its own mask: where is *which* object?"""

    image: np.ndarray  # float32 (size, size, 3) in [0, 1]
    labels: np.ndarray  # int64 (k,), index into class_names, one per object
    masks: np.ndarray  # bool (k, size, size), object j's pixels
    class_names: tuple[str, ...]

    def mask_of(self, class_name: str) -> np.ndarray:
        """The union of the masks of every object of ``class_name`` (all False if none)."""
        index = self.class_names.index(class_name)
        return self.masks[self.labels == index].any(axis=0)


def make_scene(objects, *, size: int = 64, seed: int = 0,
               class_names: tuple[str, ...] | None = None) -> Scene:
    """One cluttered image with one shape per entry of ``objects`` (class names), apart.

    The shapes are drawn like ``make_shapes``' objects but a little smaller
    (radius 16-20 % of ``size``, the small end of what the built-in model saw in
    training), and never touch, so each mask marks exactly one object.

    >>> scene = make_scene(["circle", "square"], seed=3)
    >>> scene.masks.shape, [scene.class_names[i] for i in scene.labels]
    ((2, 64, 64), ['circle', 'square'])
    """
    objects = tuple(objects)
    class_names = tuple(class_names) if class_names is not None else SOURCE_CLASSES
    unknown = [c for c in objects if c not in class_names or c not in SHAPE_CLASSES]
    if unknown or not objects:
        raise DatasetError(f"Unknown shape classes {unknown}; choose from "
                           f"{', '.join(class_names)}.")
    if len(objects) > 3 or size < 32:
        raise DatasetError("make_scene draws 1 to 3 shapes on images of 32 pixels or more.")
    rng = np.random.default_rng(seed)
    image = _cluttered_background(rng, size)
    placed = _apart(rng, len(objects), size)
    masks = [_draw(image, rng, name, cx, cy, r) for name, (cx, cy, r) in zip(objects, placed)]
    image = np.clip(image + rng.normal(0, 0.02, image.shape), 0, 1).astype(np.float32)
    labels = np.array([class_names.index(name) for name in objects], dtype=np.int64)
    return Scene(image=image, labels=labels, masks=np.stack(masks), class_names=class_names)
