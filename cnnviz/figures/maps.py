"""Maps and images as figures: response maps, small number grids, tiled pictures.

A map (2-D floats) is coloured on the server by :func:`~cnnviz.figures.colour.colorize`,
the app's one colour map, and sent as one PNG/JPEG; a colour bar drawn by
Plotly beside it uses the same scale, so the two always agree.
"""

from __future__ import annotations

import math

import numpy as np

from cnnviz.figures import theme
from cnnviz.figures.colour import colorize


def image_data_uri(rgb: np.ndarray) -> str:
    """A uint8 RGB image as a data URI the browser decodes itself.

    Small maps go as exact PNG; large ones as high-quality JPEG (no chroma
    subsampling), which encodes a 512x512 map in a few ms instead of ~60-100 ms
    and sends ~0.1-0.3 MB instead of a quarter of a million numbers in JSON.
    """
    import base64
    import io

    from PIL import Image

    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    buf = io.BytesIO()
    if rgb.shape[0] * rgb.shape[1] > 128 * 128:
        Image.fromarray(rgb).save(buf, format="JPEG", quality=92, subsampling=0)
        mime = "jpeg"
    else:
        Image.fromarray(rgb).save(buf, format="PNG", compress_level=1)
        mime = "png"
    return f"data:image/{mime};base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def scale_for(values, colorscale: str = "auto", vmin=None, vmax=None):
    """(colour scale, vmin, vmax) for a map: a diverging scale is symmetric around 0;
    ``"auto"`` picks it for signed maps and the sequential one otherwise."""
    v = np.asarray(values, dtype=np.float64)
    if colorscale == "auto":
        colorscale = theme.DIVERGING if v.size and v.min() < 0 else theme.SEQUENTIAL
    if vmin is None or vmax is None:
        lo, hi = (theme.signed_range(v) if colorscale == theme.DIVERGING
                  else theme.value_range(v))
        vmin = lo if vmin is None else vmin
        vmax = hi if vmax is None else vmax
    return colorscale, float(vmin), float(vmax)


def map_figure(values, *, title: str = "", colorscale: str = "auto", vmin=None, vmax=None,
               colorbar_title: str | None = None, overlay_scale=None, peak: bool = False,
               boxes=(), pick=None, click_points: int = 48, height: int | None = None,
               span: float = 0.5):
    """A map (2-D floats) or an image (uint8 RGB) as a figure, with a colour bar for maps.

    ``colorscale``: ``"auto"`` (diverging for signed maps, sequential otherwise) or
    a scale of :mod:`~cnnviz.figures.theme`. ``overlay_scale`` = (colour scale,
    vmin, vmax, title) draws the colour bar of a heat map already blended into an
    image. ``boxes``: (top, left, bottom, right, colour) rectangles in pixels.
    ``peak`` marks the maximum with a star, ``pick`` = (row, col) with a square.
    A grid of invisible points (at most ``click_points`` per side) makes the map
    clickable with Streamlit's selection events; each point's (x, y) is a pixel.
    ``span``: the share of the page's width the figure gets.
    """
    import plotly.graph_objects as go

    arr = np.asarray(values)
    is_image = arr.ndim == 3
    scale = None
    if is_image:
        rgb = arr.astype(np.uint8)
        if overlay_scale is not None:
            scale, vmin, vmax, colorbar_title = overlay_scale
    else:
        scale, vmin, vmax = scale_for(arr, colorscale, vmin, vmax)
        rgb = colorize(arr, colormap=scale, vmin=vmin, vmax=vmax)
    h, w = rgb.shape[:2]
    if height is None:  # as tall as the map is when it fills its width beside a colour bar
        plot_width = theme.CONTENT_WIDTH * span - (110 if scale is not None else 40)
        height = int(min(520, max(240, plot_width * h / w + 110)))
    fig = go.Figure(go.Image(source=image_data_uri(rgb), x0=0, y0=0, dx=1, dy=1,
                             hoverinfo="skip"))
    step = max(1, math.ceil(max(h, w) / click_points))
    yy, xx = np.mgrid[0:h:step, 0:w:step]
    hover = "row %{y}, col %{x}" + ("" if is_image else ": %{customdata:.3g}")
    custom = None if is_image else arr[yy.ravel(), xx.ravel()]
    fig.add_trace(go.Scattergl(
        x=xx.ravel(), y=yy.ravel(), mode="markers", customdata=custom,
        marker=dict(size=max(4, min(18, 420 / max(h, w) * step)), color="rgba(0,0,0,0.001)"),
        hovertemplate=hover + "<extra></extra>", showlegend=False, name="pick"))
    if scale is not None:  # the colour bar, from an invisible trace
        fig.add_trace(go.Scatter(
            x=[None], y=[None], mode="markers", showlegend=False, hoverinfo="skip",
            marker=dict(colorscale=scale, cmin=vmin, cmax=vmax, color=[vmin],
                        showscale=True, colorbar=theme.colorbar(colorbar_title))))
    for top, left, bottom, right, colour in boxes:
        fig.add_shape(type="rect", x0=left - 0.5, y0=top - 0.5, x1=right + 0.5,
                      y1=bottom + 0.5, line=dict(color=colour, width=3))
    if peak and not is_image:
        r, c = np.unravel_index(int(np.argmax(arr)), arr.shape)
        fig.add_trace(go.Scatter(x=[c], y=[r], mode="markers", name="peak", cliponaxis=False,
                                 marker=dict(symbol="star", size=18, color="gold",
                                             line=dict(color="black", width=1.5)),
                                 hovertemplate=f"peak {arr[r, c]:.3g} at row {r}, col {c}"
                                               "<extra></extra>", showlegend=False))
    if pick is not None:
        r, c = pick
        fig.add_shape(type="rect", x0=c - 0.5, y0=r - 0.5, x1=c + 0.5, y1=r + 0.5,
                      line=dict(color="lime", width=3))
    fig.update_layout(dragmode=False)
    fig.update_xaxes(range=[-0.5, w - 0.5], showgrid=False, constrain="domain")
    fig.update_yaxes(range=[h - 0.5, -0.5], showgrid=False, scaleanchor="x",
                     constrain="domain")
    return theme.style(fig, height=height, title=title, span=span)


def grid_figure(values, *, title: str = "", colorscale: str = theme.DIVERGING,
                decimals: int = 2, height: int = 300, span: float = 1 / 3):
    """A small 2-D array (a kernel, a window, the products) with its numbers written in.

    Signed values take the diverging scale (symmetric around 0); pass
    ``theme.GREY`` for the pixels of a grey image.
    """
    import plotly.graph_objects as go

    v = np.asarray(values, dtype=np.float64)
    zmin, zmax = (theme.signed_range(v) if colorscale == theme.DIVERGING
                  else theme.value_range(v))
    show_text = v.size <= 81
    fig = go.Figure(go.Heatmap(
        z=v, colorscale=colorscale, zmin=zmin, zmax=zmax,
        text=np.round(v, decimals) if show_text else None,
        texttemplate="%{text}" if show_text else None,
        colorbar=theme.colorbar(), hovertemplate="row %{y}, col %{x}: %{z:.4g}<extra></extra>"))
    fig.update_yaxes(autorange="reversed", scaleanchor="x", showticklabels=False)
    fig.update_xaxes(showticklabels=False)
    return theme.style(fig, height=height, title=title, span=span)


def colour_legend(title: str, *, colorscale: str = theme.SEQUENTIAL, vmin: float = 0.0,
                  vmax: float = 1.0, ticks: dict | None = None, span: float = 1.0):
    """A colour scale on its own, as a short horizontal strip: the key for a row of
    heat-map overlays shown as plain images. ``ticks`` = {value: label}."""
    import plotly.graph_objects as go

    bar = theme.colorbar(title, orientation="h", x=0.5, xanchor="center", y=0.5,
                         yanchor="middle", len=0.84, thickness=18, title_side="top")
    if ticks:
        bar.update(theme.labelled_ticks(ticks, vmin, vmax))
    fig = go.Figure(go.Scatter(
        x=[None], y=[None], mode="markers", showlegend=False, hoverinfo="skip",
        marker=dict(colorscale=colorscale, cmin=vmin, cmax=vmax, color=[vmin],
                    showscale=True, colorbar=bar)))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(plot_bgcolor="rgba(0,0,0,0)")
    return theme.style(fig, height=110, span=span)


def tile_grid(tiles: np.ndarray, *, cols: int, pad: int = 2, fill: int = 255) -> np.ndarray:
    """Tile (k, h, w, 3) uint8 images into one picture with ``cols`` columns."""
    tiles = np.asarray(tiles)
    k, h, w = tiles.shape[:3]
    cols = max(1, min(cols, k))
    rows = -(-k // cols)
    out = np.full((rows * (h + pad) - pad, cols * (w + pad) - pad, 3), fill, np.uint8)
    for i in range(k):
        r, c = divmod(i, cols)
        out[r * (h + pad): r * (h + pad) + h, c * (w + pad): c * (w + pad) + w] = tiles[i]
    return out
