"""The Convolution page's Streamlit pieces: the kernel's controls, the pixel explained
step by step (which follows the map when the settings change), the colour channels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from cnnviz import conv, matching
from cnnviz.figures import maps, theme
from cnnviz.figures.matching import WINDOW_COLOUR
from cnnviz.ui.kernel_editor import kernel_editor
from cnnviz.views import convolution as spec


@dataclass(frozen=True)
class Setup:
    """What the controls chose: the image the kernel slides over and the kernel."""

    x: np.ndarray  # float (H, W) or (H, W, 3) in [0, 1]: the image the kernel slides over
    image: np.ndarray  # the same, uint8 RGB, for figures
    name: str  # what to call it
    kernel: np.ndarray  # (k, k) or (k, k, 3)
    colour: bool
    pair: matching.Pair | None = None  # with a cut patch: where it is cut and searched
    cut_from: np.ndarray | None = None  # float image the patch is cut from
    cut: tuple[int, int, int] | None = None  # (top, left, size) of the patch

    @property
    def patch(self) -> bool:
        return self.pair is not None

    @property
    def cut_box(self) -> tuple[int, int, int, int, str]:
        top, left, k = self.cut
        return top, left, top + k - 1, left + k - 1, "yellow"


def _floats(image: np.ndarray, colour: bool) -> np.ndarray:
    return conv.to_float(image) if colour else conv.to_gray(image)


def _pair(choice, size: int) -> matching.Pair:
    ss = st.session_state
    which = ss["conv_pair"]
    if which == "shapes":
        return spec.scene_pair({"target": ss["conv_target"], "decoy": ss["conv_decoy"],
                                "scene": int(ss["conv_scene"]), "size": size})
    if which == "motorcycle":
        return matching.shrink_pair(matching.stereo_photos(), size)
    return matching.shrink_pair(matching.same_image(choice.image, choice.name), size)


def kernel_controls(view, choice) -> Setup:
    """The kernel and the image it slides over, chosen by the page's controls."""
    top = st.columns([3, 2])
    source = top[0].radio("Kernel", list(spec.KERNELS), format_func=spec.KERNELS.get,
                          horizontal=True, **view.widget("kernel"))
    colour = top[1].radio("Channels", list(spec.COLOURS), format_func=spec.COLOURS.get,
                          horizontal=True, **view.widget("colour")) == "rgb"
    row = st.columns([2, 1, 1] if source == "patch" else [2, 1, 1, 1] if source == "classic"
                     else [1, 1])
    size = row[-1].select_slider("Work at (longest side, px)", spec.SIZES,
                                 **view.widget("size"))
    if source == "patch":
        setup = _patch_controls(view, choice, size, colour, row)
    else:
        x_image = conv.shrink(choice.image, size)
        if source == "classic":
            name = row[0].selectbox("Classic kernel", conv.CLASSIC_KERNELS,
                                    **view.widget("classic"))
            ksize = row[1].slider("Size (blur, Gabor)", 3, 15, step=2,
                                  disabled=name not in spec.SIZED, **view.widget("ksize"))
            angle = row[2].slider("Gabor angle (°)", 0, 180, step=15,
                                  disabled=name != "Gabor", **view.widget("angle"))
            kernel = conv.classic_kernel(name, size=ksize, angle=angle)
        else:
            kernel = kernel_editor(view, row[0].select_slider("Kernel size", spec.OWN_SIZES,
                                                              **view.widget("n")))
        setup = Setup(_floats(x_image, colour), x_image, choice.name, kernel, colour)
    h, w = conv.shrunk_hw(choice.image.shape[:2], size)
    unused = setup.patch and not setup.pair.same
    st.caption(f"**{choice.name}**, {w}x{h} pixels, values in [0, 1]"
               + (", R G B channels" if colour else ", luminance")
               + (": the sidebar's image, which this pair does not use." if unused else "."))
    if colour and setup.kernel.ndim == 2:
        st.caption("The same k×k kernel is used for each of the three channels, and the "
                   "three results are added (see the colour section).")
    return setup


def _patch_controls(view, choice, size: int, colour: bool, row) -> Setup:
    row[0].selectbox("Cut the patch from … and search", list(spec.PAIRS),
                     format_func=spec.PAIRS.get, **view.widget("pair"))
    if st.session_state["conv_pair"] == "shapes":
        sc = st.columns(3)
        sc[0].selectbox("Shape to cut", spec.SHAPE_CLASSES, **view.widget("target"))
        target = st.session_state["conv_target"]
        sc[1].selectbox("Other shape in scene 2", [c for c in spec.SHAPE_CLASSES
                                                   if c != target], **view.widget("decoy"))
        sc[2].number_input("Scenes' random seed", *spec.SEED_RANGE, step=1,
                           **view.widget("scene"))
    row[1].slider("Matches to mark", *spec.MATCHES, **view.widget("matches"))
    pair = _pair(choice, size)
    _patch_follows(pair, choice, size)
    cut_from = _floats(pair.kernel_image, colour)
    x = cut_from if pair.same else _floats(pair.search_image, colour)
    h, w = cut_from.shape[:2]
    kc = st.columns(3)
    k = kc[0].slider("Patch size", 3, max(3, min(64, min(h, w) // 2)), **view.widget("k"))
    ptop = kc[1].slider("Patch top row", 0, h - k, **view.widget("top"))
    pleft = kc[2].slider("Patch left column", 0, w - k, **view.widget("left"))
    kernel = cut_from[ptop:ptop + k, pleft:pleft + k].copy()
    return Setup(x, pair.search_image, pair.search_name, kernel, colour, pair, cut_from,
                 (ptop, pleft, k))


def _patch_follows(pair: matching.Pair, choice, size: int) -> None:
    """Another image to cut from (another pair, scene, size or sidebar image): the patch
    goes to that image's default place instead of staying where it was."""
    ss = st.session_state
    scenes = tuple(ss.get(key) for key in ("conv_target", "conv_decoy", "conv_scene")) \
        if ss["conv_pair"] == "shapes" else ()
    image = (ss["conv_pair"], scenes, size, choice.name if pair.same else None)
    if ss.get("conv_cut_from") not in (None, image):
        for key in ("conv_k", "conv_top", "conv_left"):
            ss.pop(key, None)
    ss["conv_cut_from"] = image


def flat_patch_note(setup: Setup) -> str | None:
    """Why a patch cannot be matched, in the student's terms, when it is one flat colour."""
    if not setup.patch or np.ptp(setup.kernel) > 0:
        return None
    top, left, k = setup.cut
    where = (f"The {k}×{k} patch at rows {top}–{top + k - 1}, columns {left}–"
             f"{left + k - 1} of {setup.pair.kernel_name}")
    if np.ptp(setup.cut_from) == 0:
        return (f"{setup.pair.kernel_name} is one flat colour everywhere (a tiny upload "
                "scaled up gives this), so no patch of it has a pattern to match. Pick a "
                "photo or a shape in the sidebar, another image pair, or a classic kernel.")
    return (f"{where} is one flat colour: it has no pattern to match. Move or enlarge it "
            "onto some texture.")


# ----------------------------------------------------------- the pixel step by step
_FRAME = "conv_pick_frame"


def follow_pick(view, g: conv.Geometry, peak, image_key: str) -> tuple[int, int, int, str]:
    """The output pixel explained step by step, and a sentence on where it is.

    Until the student picks one, it is the map's peak, which it follows. A picked
    pixel stays on the same place of the image when the kernel, stride, padding or
    dilation change (its output row and column change with them); on another
    image it follows the peak again.
    """
    ss = st.session_state
    version = ss.get("conv_ver", 0)
    keys = (f"conv_row_{version}", f"conv_col_{version}")
    picked = tuple(ss.get(key) for key in keys)
    following = picked[0] is None or picked == ss.get("conv_peak")
    before = ss.get(_FRAME)
    note = ""
    if before is not None and before != (image_key, g) and not following:
        if before[0] != image_key:
            for key in keys:
                ss.pop(key, None)
            note = "Another image: the pixel follows the peak again. "
        else:
            y, x = before[1].centre(*picked)
            moved = g.nearest_output(y, x)
            ss[keys[0]], ss[keys[1]] = moved
            if moved != picked:
                note = (f"The settings changed: your pixel (row {picked[0]}, col "
                        f"{picked[1]}) is now row {moved[0]}, col {moved[1]}, the window "
                        f"nearest the same place of the image (row {y}, col {x}). ")
    ss[_FRAME] = (image_key, g)
    row, col, version = view.pick("conv", ss.get("conv_map"), g.out_hw, peak)
    if (row, col) == tuple(int(v) for v in peak):
        note += "It follows the map's peak: click the map or move a slider to pick another."
    return row, col, version, note


def pixel_sliders(row: int, col: int, version: int, shape) -> None:
    """The two sliders of the picked pixel (their values set before they are drawn)."""
    st.session_state[f"conv_row_{version}"], st.session_state[f"conv_col_{version}"] = row, col
    sc = st.columns(2)
    sc[0].slider("Output row", 0, shape[0] - 1, key=f"conv_row_{version}")
    sc[1].slider("Output column", 0, shape[1] - 1, key=f"conv_col_{version}")


def explain_pixel(view, setup: Setup, window, response, row: int, col: int, g) -> None:
    """The window of one output pixel, the kernel and their products, summed."""
    kernel = setup.kernel
    if setup.colour:
        channel = st.radio("Channel to show", spec.CHANNELS, horizontal=True,
                           **view.widget("channel"))
        ci = "RGB".index(channel)
        vals, prods = window.values[..., ci], window.products[..., ci]
        kern = kernel[..., ci] if kernel.ndim == 3 else kernel
    else:
        vals, kern, prods = window.values[..., 0], kernel, window.products[..., 0]
    h, w = setup.x.shape[:2]
    gc = st.columns(4)
    gc[0].plotly_chart(maps.map_figure(setup.image, title="Where", span=0.25, height=280,
                                       boxes=[(*window_box(window, (h, w)), WINDOW_COLOUR)]),
                       width="stretch")
    for slot, values, title, scale in ((gc[1], vals, "Input window", theme.GREY),
                                       (gc[2], kern, "× kernel", theme.DIVERGING),
                                       (gc[3], prods, "= products", theme.DIVERGING)):
        slot.plotly_chart(maps.grid_figure(values, title=title, colorscale=scale, span=0.25,
                                           height=280), width="stretch")
    in_pad = bool(((window.rows < 0) | (window.rows >= h)).any()
                  or ((window.cols < 0) | (window.cols >= w)).any())
    st.markdown(
        f"Output pixel (row {row}, col {col}) reads input rows {window.rows[0]}…"
        f"{window.rows[-1]} and columns {window.cols[0]}…{window.cols[-1]} (every "
        f"{g.dilation[0]} pixel(s); stride {g.stride[0]} moves the window by {g.stride[0]}). "
        f"Sum of all {window.products.size} products = **{window.total:.4f}**, the value in "
        f"the map: {response[row, col]:.4f}."
        + (" Taps that fall on padding read zeros." if in_pad else ""))
    if setup.colour:
        parts = [window.products[..., i].sum() for i in range(3)]
        st.markdown(f"Per channel: R {parts[0]:.4f} + G {parts[1]:.4f} + B {parts[2]:.4f} = "
                    f"{sum(parts):.4f}.")


def window_box(window, hw) -> tuple[int, int, int, int]:
    """The part of the image a window covers (top, left, bottom, right), clipped to it."""
    return (max(int(window.rows[0]), 0), max(int(window.cols[0]), 0),
            min(int(window.rows[-1]), hw[0] - 1), min(int(window.cols[-1]), hw[1] - 1))


def colour_parts(setup: Setup, stride, padding, dilation) -> None:
    """A colour image's three per-channel maps and their sum."""
    st.header("Colour: one kernel slice per channel, summed")
    st.markdown("A conv layer's kernel has one k×k slice per input channel. It filters R, G "
                "and B separately and **adds** the three maps: one output channel per "
                "kernel, whatever the number of input channels.")
    parts = conv.convolve_channels(setup.x, setup.kernel, stride=stride, padding=padding,
                                   dilation=dilation)
    shown = [parts[..., i] for i in range(3)] + [parts.sum(axis=2)]
    titles = ("R part", "+ G part", "+ B part", "= the response")
    for i in range(4):
        if i % 2 == 0:
            pc = st.columns(2)
        pc[i % 2].plotly_chart(maps.map_figure(shown[i], title=titles[i],
                                               colorbar_title="response"), width="stretch")
