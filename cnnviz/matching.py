"""Template matching across images: cut a kernel from one image, find it in another.

A kernel cut from an image and slid over *that* image finds itself with a score
of 1: a circular test that proves nothing. The pairs here cut the kernel from
one image and search another:

- two scenes of synthetic shapes (``shape_scenes``): the shape cut from the
  first appears twice in the second, beside a shape of another class, and every
  object has its mask, so each object's score is measured;
- the two photos of a stereo camera (``stereo_photos``): the patch is found
  where the second camera sees it;
- one image with itself (``same_image``), to show why that test is circular.

Normalised cross-correlation (:func:`cnnviz.conv.match_template`) scores every
position; the best few, kept apart by non-maximum suppression
(:func:`top_matches`), are the matches. The sentences the page shows are
computed from those scores with the thresholds :data:`MATCH` and :data:`MARGIN`.

>>> pair = shape_scenes("circle", "square")
>>> [pair.objects[j] for j in range(3)], pair.target
(['circle', 'circle', 'square'], 'circle')
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from cnnviz import conv
from cnnviz.errors import ImageError

#: Side of the shape scenes, in pixels (larger than the 64-pixel training images, so
#: a kernel of a whole shape still leaves room to slide).
SCENE_SIZE = 128
#: The default seed of the scenes. Chosen (seeds 0-399 measured) because it shows both
#: lessons at once: the cut circle is darker than its surroundings like the two circles
#: of scene 2, and the bright square is where the raw weighted sum peaks.
SCENE_SEED = 355
#: An NCC score at or above this is called a match.
MATCH = 0.5
#: Two scores closer than this are not told apart.
MARGIN = 0.2
#: The stereo pair's size (scikit-image's ``stereo_motorcycle``), known without loading it.
STEREO_HW = (500, 741)
#: Where the default patch of the stereo pair sits (the front wheel), as shares of the
#: image's height and width, and its side as a share of the width.
STEREO_PATCH = (0.717, 0.809, 0.25)


@dataclass(frozen=True)
class Pair:
    """The image a kernel is cut from and the image it is searched in (uint8 RGB).

    ``objects``, ``masks``: the class and the pixels of each object of the search
    image, when it is a scene; ``cut_mask``: the object of the kernel image;
    ``target``: the class of that object.
    """

    kernel_image: np.ndarray
    search_image: np.ndarray
    kernel_name: str
    search_name: str
    objects: tuple[str, ...] = ()
    masks: np.ndarray | None = None  # bool (k, H, W)
    cut_mask: np.ndarray | None = None  # bool (H, W)
    target: str | None = None

    @property
    def same(self) -> bool:
        """Whether the kernel is searched in the image it was cut from."""
        return self.kernel_image is self.search_image


def _uint8(image: np.ndarray) -> np.ndarray:
    out = (np.asarray(image) * 255).round().astype(np.uint8)
    out.setflags(write=False)
    return out


@functools.lru_cache(maxsize=16)
def shape_scenes(target: str = "circle", decoy: str = "square", seed: int = SCENE_SEED,
                 size: int = SCENE_SIZE) -> Pair:
    """Scene 1 (seed ``seed``): one ``target`` shape to cut the kernel from. Scene 2
    (seed ``seed + 1``): two ``target`` shapes and one ``decoy``, each with its mask."""
    from cnnviz.data import SHAPE_CLASSES, make_scene

    first = make_scene([target], size=size, seed=seed, class_names=SHAPE_CLASSES)
    second = make_scene([target, target, decoy], size=size, seed=seed + 1,
                        class_names=SHAPE_CLASSES)
    objects = tuple(SHAPE_CLASSES[i] for i in second.labels)
    return Pair(_uint8(first.image), _uint8(second.image), "scene 1", "scene 2", objects,
                second.masks, first.masks[0], target)


@functools.lru_cache(maxsize=1)
def _stereo() -> tuple[np.ndarray, np.ndarray]:
    import skimage.data

    from cnnviz.images import as_rgb_uint8

    left, right, _ = skimage.data.stereo_motorcycle()
    left, right = as_rgb_uint8(left), as_rgb_uint8(right)
    for image in (left, right):
        image.setflags(write=False)
    return left, right


def stereo_photos() -> Pair:
    """The left and right photos of a stereo camera (scikit-image's motorcycle): the
    kernel is cut from the left one and searched in the right one."""
    left, right = _stereo()
    return Pair(left, right, "the left camera's photo", "the right camera's photo")


def same_image(image: np.ndarray, name: str) -> Pair:
    """One image as both: the kernel is searched in the image it was cut from."""
    return Pair(image, image, name, name)


def shrink_pair(pair: Pair, max_side: int) -> Pair:
    """The pair at a working size (longest side at most ``max_side``), masks included."""
    def mask(m):
        if m is None:
            return None
        hw = conv.shrunk_hw(m.shape[-2:], max_side)
        if hw == m.shape[-2:]:
            return m
        from cnnviz.images import resize_map

        flat = m.reshape(-1, *m.shape[-2:])
        return np.stack([resize_map(one.astype(np.float32), hw) > 0.5 for one in flat]
                        ).reshape(*m.shape[:-2], *hw)

    kernel_image = conv.shrink(pair.kernel_image, max_side)
    search_image = kernel_image if pair.same else conv.shrink(pair.search_image, max_side)
    return Pair(kernel_image, search_image, pair.kernel_name, pair.search_name, pair.objects,
                mask(pair.masks), mask(pair.cut_mask), pair.target)


def patch_around(mask: np.ndarray, max_size: int, margin: int = 2) -> tuple[int, int, int]:
    """(size, top, left) of the square patch around the object of ``mask``, with
    ``margin`` pixels of its surroundings, at most ``max_size`` wide."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        raise ImageError("The mask marks no object to cut a patch around.")
    h, w = mask.shape
    size = int(min(max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 + 2 * margin, max_size))
    centre_r, centre_c = (rows[0] + rows[-1] + 1) // 2, (cols[0] + cols[-1] + 1) // 2
    top = int(min(max(centre_r - size // 2, 0), h - size))
    left = int(min(max(centre_c - size // 2, 0), w - size))
    return size, top, left


# ------------------------------------------------------------------ scores and matches
@dataclass(frozen=True)
class Match:
    """A window of the search image where the kernel matches."""

    row: int  # top-left corner of the window
    col: int
    score: float  # its normalised cross-correlation
    centre: tuple[int, int]  # the window's centre pixel
    on: int | None = None  # the object of a scene under its centre, if any


def window_centre(row: int, col: int, kernel_hw) -> tuple[int, int]:
    """The centre pixel of the window whose top-left corner is (row, col)."""
    return int(row + (kernel_hw[0] - 1) // 2), int(col + (kernel_hw[1] - 1) // 2)


def top_matches(ncc: np.ndarray, k: int, kernel_hw, *, masks=None,
                min_distance: int | None = None) -> list[Match]:
    """The ``k`` best windows, best first, each at least ``min_distance`` pixels (along
    rows or columns; default the kernel's size, so no two windows overlap) from every
    better one: non-maximum suppression, so one object gives one match, not a cluster of
    its neighbours."""
    scores = np.array(ncc, dtype=np.float64)
    if min_distance is None:
        min_distance = max(kernel_hw)
    found = []
    while len(found) < k and np.isfinite(scores).any():
        row, col = np.unravel_index(int(np.nanargmax(np.where(np.isfinite(scores), scores,
                                                              -np.inf))), scores.shape)
        centre = window_centre(row, col, kernel_hw)
        on = None
        if masks is not None:
            hits = [j for j, m in enumerate(masks) if m[centre]]
            on = hits[0] if hits else None
        found.append(Match(int(row), int(col), float(ncc[row, col]), centre, on))
        scores[max(row - min_distance, 0): row + min_distance + 1,
               max(col - min_distance, 0): col + min_distance + 1] = -np.inf
    return found


def on_input(values: np.ndarray, g: conv.Geometry, *, fill: float | None = None) -> np.ndarray:
    """A map of output pixels drawn on the input image: each input pixel takes the value
    of the output pixel whose window is centred nearest to it (``fill``, default the
    map's minimum, where no window is centred)."""
    values = np.asarray(values, dtype=np.float64)
    fill = float(np.nanmin(values)) if fill is None else fill
    index = []
    for axis, pad in ((0, g.pad_top), (1, g.pad_left)):
        offset = (g.dilation[axis] * (g.kernel_hw[axis] - 1)) // 2 - pad
        exact = (np.arange(g.in_hw[axis]) - offset) / g.stride[axis]
        nearest = np.floor(exact + 0.5).astype(int)
        inside = (exact > -0.5 - 1e-9) & (exact < g.out_hw[axis] - 0.5 + 1e-9)
        index.append((np.clip(nearest, 0, g.out_hw[axis] - 1), inside))
    (rows, rows_in), (cols, cols_in) = index
    out = values[np.ix_(rows, cols)]
    out[~(rows_in[:, None] & cols_in[None, :])] = fill
    return out


def object_scores(ncc: np.ndarray, kernel_hw, masks: np.ndarray) -> np.ndarray:
    """Each object's score: the best NCC of a window centred on one of its pixels (NaN
    when no whole window is centred on it)."""
    g = conv.geometry(masks.shape[1:], kernel_hw)
    centred = on_input(ncc, g, fill=np.nan)
    out = []
    for mask in masks:
        inside = centred[mask]
        out.append(float(np.nanmax(inside)) if np.isfinite(inside).any() else np.nan)
    return np.array(out)


def contrast(grey: np.ndarray, mask: np.ndarray, ring: int = 3) -> float:
    """How much brighter an object is than a ring of ``ring`` pixels around it (negative:
    darker); a template matches a dark object and a light one with opposite signs."""
    from scipy.ndimage import binary_dilation

    around = binary_dilation(mask, iterations=ring) & ~mask
    if not around.any() or not mask.any():
        return 0.0
    return float(grey[mask].mean() - grey[around].mean())


# ------------------------------------------------------------------ sentences
def _region(mask_or_centre, shape) -> str:
    from cnnviz.questions import region_of

    if isinstance(mask_or_centre, np.ndarray):
        rows, cols = np.nonzero(mask_or_centre)
        return region_of(rows.mean(), cols.mean(), shape)
    return region_of(*mask_or_centre, shape)


def _num(value: float) -> str:
    return "n/a" if not np.isfinite(value) else f"{value:.2f}".replace("-", "−")


_COUNTS = {2: "two", 3: "three"}


def _count(n: int, name: str) -> str:
    return f"{n} {name}" if n == 1 else f"{n} {name}s"


def _plural(name: str, n: int) -> str:
    return name if n == 1 else (name + "es" if name.endswith(("s", "x")) else name + "s")


def scene_sentence(pair: Pair, scores: np.ndarray, grey_kernel_image: np.ndarray,
                   grey_search_image: np.ndarray) -> str:
    """What NCC found on a scene, from each object's score: whether every ``target``
    scores a match (>= MATCH) and beats the other shapes by MARGIN, and if not, why."""
    shape = pair.masks.shape[1:]
    order = sorted(range(len(pair.objects)), key=lambda j: -np.nan_to_num(scores[j], nan=-9))
    targets = [j for j in order if pair.objects[j] == pair.target]  # best first
    others = [j for j in order if j not in targets]
    where = [_region(pair.masks[j], shape) for j in range(len(pair.objects))]
    n = len(targets)
    lead = (f"The {pair.target} ({where[targets[0]]}) scores {_num(scores[targets[0]])}"
            if n == 1 else
            f"The {_COUNTS.get(n, n)} {_plural(pair.target, n)} "
            f"({', '.join(where[j] for j in targets)}) "
            f"score {' and '.join(_num(scores[j]) for j in targets)}")
    rest = ", ".join(f"the {pair.objects[j]} ({where[j]}) {_num(scores[j])}" for j in others)
    head = f"{lead}, {rest}" if rest else lead
    target_scores = np.array([scores[j] for j in targets])
    other_best = max((scores[j] for j in others), default=-np.inf)
    weak = [j for j in targets if not scores[j] >= MATCH]
    if not weak and np.nanmin(target_scores) - other_best >= MARGIN:
        apart = " and ".join(pair.objects[j] for j in others) or "background"
        return (f"{head}: normalised cross-correlation finds the {pair.target}'s pattern in "
                f"another image and tells it from the {apart} (a match: ≥ {MATCH}; told "
                f"apart: ≥ {MARGIN} higher).")
    if weak:
        cut = contrast(grey_kernel_image, pair.cut_mask)
        reversed_ = [j for j in weak if np.sign(contrast(grey_search_image, pair.masks[j]))
                     != np.sign(cut)]
        names = " and ".join(f"the {pair.target} ({where[j]})" for j in weak)
        if reversed_:
            cause = (f"it is {'lighter' if cut < 0 else 'darker'} than its surroundings, where "
                     f"the cut {pair.target} is {'darker' if cut < 0 else 'lighter'}: NCC "
                     "compares patterns of light and dark, so reversed contrast scores low "
                     "or below 0")
        else:
            cause = ("a different size, rotation or colour, or clutter under the window, "
                     "lowers the score")
        verb = "scores" if len(weak) == 1 else "score"
        best = int(np.nanargmax(scores)) if np.isfinite(scores).any() else None
        if best is not None and best in others:
            verb = f"{verb} below {MATCH} and the {pair.objects[best]} scores highest"
        else:
            verb = f"{verb} below {MATCH}"
        return f"{head}. {names[0].upper()}{names[1:]} {verb}: {cause}."
    closest = max(others, key=lambda j: scores[j])
    return (f"{head}: the {pair.objects[closest]} scores within {MARGIN} of a {pair.target}, "
            "so here NCC does not tell them apart: at this size their patterns of light and "
            "dark overlap.")


def photo_sentence(pair: Pair, matches: list[Match], cut: tuple[int, int]) -> str:
    """Where the best match is, against where the patch was cut, and whether it is one
    clear match (>= MATCH and MARGIN above the next) or an ambiguous one."""
    if not matches:
        return "No position fits the kernel."
    best = matches[0]
    dr, dc = best.row - cut[0], best.col - cut[1]
    if pair.same and dr == 0 and dc == 0:
        return (f"It finds itself: row {best.row}, col {best.col}, score {_num(best.score)}, "
                "exactly where it was cut. The patch is part of this image, so that proves "
                "nothing: cut it from one image and search another (the other pairs).")
    moved = ", ".join(part for part in (
        f"{_count(abs(dc), 'column')} {'left' if dc < 0 else 'right'}" if dc else "",
        f"{_count(abs(dr), 'row')} {'up' if dr < 0 else 'down'}" if dr else "") if part)
    where = f"{moved} of where it was cut in {pair.kernel_name}" if moved else \
        f"at the same place as in {pair.kernel_name}"
    head = f"Best match at row {best.row}, col {best.col} (score {_num(best.score)}), {where}"
    if best.score < MATCH:
        return f"{head}; no window reaches {MATCH}: the pattern is not found here."
    if len(matches) < 2:
        return f"{head}."
    second = matches[1].score
    if best.score - second >= MARGIN:
        return (f"{head}; the next best scores {_num(second)}: one clear match (≥ {MATCH}, "
                f"and ≥ {MARGIN} above the rest).")
    return (f"{head}; the next best scores {_num(second)}, less than {MARGIN} lower: the "
            "pattern repeats, so this match is ambiguous.")


def raw_sentence(x: np.ndarray, response: np.ndarray, g: conv.Geometry, best: Match,
                 masks=None, objects=()) -> str:
    """Where the raw weighted sum peaks, against the best NCC match: the same place
    (within half a kernel, or on the same object), or a brighter one."""
    grey = x if x.ndim == 2 else x.mean(axis=2)
    peak = np.unravel_index(int(np.argmax(response)), response.shape)
    centre = g.centre(*peak)
    centre = (min(max(centre[0], 0), grey.shape[0] - 1), min(max(centre[1], 0),
                                                              grey.shape[1] - 1))
    half = [(d * (k - 1)) // 2 for d, k in zip(g.dilation, g.kernel_hw)]

    def brightness(c):
        return float(grey[max(c[0] - half[0], 0): c[0] + half[0] + 1,
                          max(c[1] - half[1], 0): c[1] + half[1] + 1].mean())

    on = None
    if masks is not None:
        hits = [j for j, m in enumerate(masks) if m[centre]]
        on = hits[0] if hits else None
    if masks is not None:
        same = on is not None and on == best.on
        place = f"the {objects[on]} ({_region(masks[on], grey.shape)})" if on is not None \
            else f"the background at row {centre[0]}, col {centre[1]}"
    else:
        same = max(abs(centre[0] - best.centre[0]), abs(centre[1] - best.centre[1])) \
            <= max(half)
        place = f"row {centre[0]}, col {centre[1]}"
    if same:
        return (f"The raw weighted sum peaks there too ({place}): here the best match is "
                "also bright enough to win without normalising.")
    return (f"The raw weighted sum peaks at {place} instead: mean brightness "
            f"{brightness(centre):.2f} under its window against {brightness(best.centre):.2f} "
            "under the best match. The raw sum grows with brightness; NCC removes it.")


def kernel_sentence(kernel: np.ndarray, response: np.ndarray) -> str:
    """What a hand-made kernel's map shows, from its weights: with weights summing to
    0 (within 1e-9 of their total size) flat regions give 0, otherwise brightness
    leaks into the map."""
    peak = np.unravel_index(int(np.argmax(response)), response.shape)
    total, size = float(np.sum(kernel)), float(np.abs(kernel).sum())
    head = f"Strongest response {response[peak]:.3g} at row {peak[0]}, col {peak[1]}."
    if abs(total) <= 1e-9 * max(size, 1e-12):
        return (f"{head} The weights sum to 0, so flat regions give 0: the map shows only "
                "where the image has the kernel's pattern (red: the pattern, blue: its "
                "opposite).")
    return (f"{head} The weights sum to {total:.3g}, so a flat region of brightness b gives "
            f"{total:.3g}·b: the map shows brightness as well as the pattern.")
