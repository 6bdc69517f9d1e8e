"""The app's one colour map: numbers in, RGB pixels out.

Every coloured picture of a map (response maps, feature maps, heat-map
overlays via :func:`cnnviz.images.overlay`) goes through :func:`colorize`.
Its tables are sampled from Plotly's own colour scales, so a Plotly colour bar
drawn beside a picture shows exactly the colours of its pixels.
"""

from __future__ import annotations

import functools

import numpy as np

from cnnviz.errors import ImageError

#: The colour maps the app uses; any Plotly colour-scale name works as well ("_r"
#: reverses one).
COLORMAPS = ("viridis", "cividis", "magma", "hot", "jet", "gray", "RdBu_r")
#: Pure black to white (Plotly's "gray" is cmocean's, which is slightly tinted).
GREY = ((0.0, "rgb(0,0,0)"), (1.0, "rgb(255,255,255)"))


def colormap_table(colormap, n: int = 256) -> np.ndarray:
    """A (n, 3) uint8 lookup table (read-only) for a colour map.

    ``colormap`` is a Plotly colour-scale name (case-insensitive; "gray"/"grey"
    is pure grey) or a Plotly colour scale given as (position, colour) pairs.
    """
    if isinstance(colormap, str):
        key = GREY if colormap.lower() in ("gray", "grey") else colormap
    else:
        key = tuple((float(p), str(c)) for p, c in colormap)
    return _table(key, int(n))


@functools.cache
def _table(colormap, n: int) -> np.ndarray:
    from plotly.colors import convert_colors_to_same_type, get_colorscale, unlabel_rgb

    try:
        scale = get_colorscale(colormap) if isinstance(colormap, str) else colormap
    except Exception:  # Plotly's own error type for an unknown name
        raise ImageError(f"Unknown colour map {colormap!r}; use a Plotly colour scale such "
                         f"as {', '.join(COLORMAPS)}.") from None
    positions = np.array([float(p) for p, _ in scale])
    colours = np.array([unlabel_rgb(convert_colors_to_same_type(c, "rgb")[0][0])
                        for _, c in scale], dtype=np.float64)
    x = np.linspace(0.0, 1.0, n)
    table = np.stack([np.interp(x, positions, colours[:, k]) for k in range(3)], axis=1)
    table = np.clip(np.round(table), 0, 255).astype(np.uint8)
    table.setflags(write=False)
    return table


def normalize_map(values, *, vmin: float | None = None, vmax: float | None = None) -> np.ndarray:
    """Scale a map to [0, 1] by its range (or by ``vmin``/``vmax``). Never NaN.

    A constant map (all zeros, say) has no range and becomes all zeros.
    """
    array = np.nan_to_num(np.asarray(values, dtype=np.float32), nan=0.0, posinf=0.0,
                          neginf=0.0)
    lo = float(array.min()) if vmin is None else float(vmin)
    hi = float(array.max()) if vmax is None else float(vmax)
    if not hi - lo > 1e-12:
        return np.zeros_like(array, dtype=np.float32)
    return np.clip((array - lo) / (hi - lo), 0.0, 1.0).astype(np.float32)


def colorize(values, *, colormap="viridis", vmin: float | None = None,
             vmax: float | None = None) -> np.ndarray:
    """Colour numbers through a colour map; uint8, shape ``values.shape + (3,)``.

    ``values`` of any shape are scaled to [0, 1] by ``vmin``/``vmax`` (default:
    their own range) and looked up in :func:`colormap_table`.
    """
    table = colormap_table(colormap)
    unit = normalize_map(values, vmin=vmin, vmax=vmax)
    return table[np.round(unit * (len(table) - 1)).astype(np.intp)]
