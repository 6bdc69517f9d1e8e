"""Convolution: a sliding weighted sum that finds what looks like the kernel (C1, C2)."""

import time

import numpy as np
import scipy.signal  # noqa: F401 - imported up front: the timing below is the maths alone
import streamlit as st

from cnnviz import conv, ui
from cnnviz.figures import maps, theme
from cnnviz.notebooks.convolution import numbers as page_numbers
from cnnviz.views import convolution as spec

ui.page_setup("Convolution")

view = ui.page_view("convolution", prefix="conv_")
choice = ui.image_picker()
view.settle(**spec.facts(choice.image))
st.title("Convolution: a sliding weighted sum")
view.bar()
st.markdown(
    "A convolution layer slides a small grid of weights (the **kernel**) over the image. "
    "At every position it multiplies each weight with the pixel under it and adds the "
    "products up: one number per position, the **response map**. (Like every deep-learning "
    "library we do not flip the kernel: strictly, this is cross-correlation.)"
)

top = st.columns([1, 1, 1])
colour = top[0].radio("Channels", list(spec.COLOURS), format_func=spec.COLOURS.get,
                      horizontal=True, **view.widget("colour")) == "rgb"
max_side = top[1].select_slider("Work at (longest side, pixels)", spec.SIZES,
                                **view.widget("size"))
image_u8 = conv.shrink(choice.image, max_side)
x = conv.to_float(image_u8) if colour else conv.to_gray(image_u8)
h, w = x.shape[:2]
top[2].caption(f"**{choice.name}**, {w}x{h} pixels, values in [0, 1]"
               + (", R G B channels" if colour else ", luminance"))

# ---------------------------------------------------------------- 1. the kernel
st.header("1 · The kernel")
source = st.radio("Kernel", list(spec.KERNELS), format_func=spec.KERNELS.get, horizontal=True,
                  **view.widget("kernel"))
patch_box = None
if source == "patch":
    kc = st.columns(3)
    k = kc[0].slider("Patch size", 3, max(3, min(64, min(h, w) // 2)), **view.widget("k"))
    ptop = kc[1].slider("Patch top row", 0, h - k, **view.widget("top"))
    pleft = kc[2].slider("Patch left column", 0, w - k, **view.widget("left"))
    kernel = x[ptop : ptop + k, pleft : pleft + k].copy()
    patch_box = (ptop, pleft, ptop + k - 1, pleft + k - 1, "yellow")
elif source == "classic":
    kc = st.columns(3)
    name = kc[0].selectbox("Kernel", conv.CLASSIC_KERNELS, **view.widget("classic"))
    size = kc[1].slider("Size (blur, Gabor)", 3, 15, step=2, disabled=name not in spec.SIZED,
                        **view.widget("ksize"))
    angle = kc[2].slider("Gabor angle (degrees)", 0, 180, step=15, disabled=name != "Gabor",
                         **view.widget("angle"))
    kernel = conv.classic_kernel(name, size=size, angle=angle)
else:
    n = st.select_slider("Kernel size", spec.OWN_SIZES, **view.widget("n"))
    kernel = ui.kernel_editor(view, n)
if colour and kernel.ndim == 2:
    st.caption("The same k×k kernel is used for each of the three channels, and the three "
               "results are added (section 5).")
kernel_view = kernel.mean(axis=2) if kernel.ndim == 3 else kernel

# ---------------------------------------------------------------- 2. the knobs
st.header("2 · Stride, padding, dilation")
kn = st.columns(4)
stride = kn[0].slider("Stride", 1, 8, help="How many pixels the kernel moves between two "
                      "outputs.", **view.widget("stride"))
pad_mode = kn[1].selectbox("Padding", list(spec.PADDINGS), format_func=spec.PADDINGS.get,
                           help="Zeros added around the image before sliding.",
                           **view.widget("pad"))
pad_n = kn[2].number_input("Padding pixels", 0, 64, disabled=pad_mode != "number",
                           **view.widget("padn"))
dilation = kn[3].slider("Dilation", 1, 8, help="Gaps between the kernel's taps: a wider view, "
                        "same weights.", **view.widget("dil"))
padding = int(pad_n) if pad_mode == "number" else pad_mode

response = None
with ui.guard("the convolution"):
    g = conv.geometry((h, w), kernel.shape[:2], stride=stride, padding=padding,
                      dilation=dilation)
    t0 = time.perf_counter()
    response = conv.convolve(x, kernel, stride=stride, padding=padding, dilation=dilation)
    elapsed = 1000 * (time.perf_counter() - t0)
if response is None:
    view.publish()
    st.stop()

pad_h, pad_w = g.pad_top + g.pad_bottom, g.pad_left + g.pad_right
st.markdown(
    f"Output size: $\\lfloor (n + p - d(k-1) - 1) / s \\rfloor + 1$ with n = input size, "
    f"p = total padding, k = kernel size, d = dilation, s = stride. The dilated kernel spans "
    f"d(k-1)+1 = **{g.effective_hw[0]}x{g.effective_hw[1]}** pixels."
)
st.code(f"height: {g.formula(0)}\nwidth:  {g.formula(1)}", language=None, wrap_lines=True)
st.caption(f"Input {h}x{w}, padding {pad_h} rows and {pad_w} columns in total → output "
           f"**{g.out_hw[0]}x{g.out_hw[1]}**, computed in {elapsed:.0f} ms.")

# ------------------------------------------------ 3. the response map (click a pixel)
st.header("3 · The response map")
oh, ow = response.shape
peak = np.unravel_index(int(np.argmax(response)), response.shape)
row, col, pick_ver = view.pick("conv", st.session_state.get("conv_map"), (oh, ow), peak)
window = conv.window_at(x, kernel, row, col, stride=stride, padding=padding, dilation=dilation)
win_box = (max(window.rows[0], 0), max(window.cols[0], 0), min(window.rows[-1], h - 1),
           min(window.cols[-1], w - 1), "lime")

is_patch = patch_box is not None
cols = st.columns(2)
with cols[0]:
    boxes = [b for b in (patch_box, win_box) if b is not None]
    st.plotly_chart(maps.map_figure(image_u8, title="Input (yellow: patch, green: window)",
                                    boxes=boxes), width="stretch")
with cols[1]:
    st.plotly_chart(maps.map_figure(response, title="Raw response = weighted sum", peak=True,
                                    pick=(row, col)),
                    width="stretch", on_select="rerun", selection_mode=("points",),
                    key="conv_map")
ncc = None
if is_patch:
    cols = st.columns(2)
    with cols[0], ui.guard("template matching"):
        ncc = conv.match_template(x, kernel)
        st.plotly_chart(maps.map_figure(ncc, title="Normalised cross-correlation", peak=True,
                                        colorscale=theme.DIVERGING, vmin=-1, vmax=1),
                        width="stretch")
if ncc is not None:
    npeak = np.unravel_index(int(np.argmax(ncc)), ncc.shape)
    cols[1].markdown("####\n")  # line the note up with the map
    cols[1].info(
        f"**Template matching.** Each output is the dot product of the kernel with the patch "
        f"under it, so it is largest where the image has the kernel's pattern: the patch you "
        f"cut (top-left at row {ptop}, col {pleft}) is found by normalised cross-correlation "
        f"at row {npeak[0]}, col {npeak[1]} (score {ncc.max():.2f}). The raw sum (★ at output "
        f"row {peak[0]}, col {peak[1]}) also grows with plain **brightness**: a bright region "
        "multiplies every positive weight by a big number. Normalised cross-correlation "
        "subtracts both means and divides by both norms, so only the pattern counts (1 = same "
        "pattern, 0 = unrelated; stride 1, no padding).", icon=":material/target:")
elif not is_patch:
    st.info(
        f"**Feature detection.** The map is large where the image under the kernel looks "
        f"like the kernel's pattern of positive and negative weights (★ = the maximum, "
        f"{response.max():.3g}). An edge kernel lights up along edges, red on one side "
        "(positive) and blue on the other (negative); flat regions give 0 when the weights "
        "sum to 0.", icon=":material/target:")

# ---------------------------------------------------------- 4. one output pixel
st.header("4 · One output pixel, step by step")
st.caption("Click the response map above, or use the sliders.")
sc = st.columns(2)
sc[0].slider("Output row", 0, oh - 1, row, key=f"conv_row_{pick_ver}")
sc[1].slider("Output column", 0, ow - 1, col, key=f"conv_col_{pick_ver}")
if colour:
    channel = st.radio("Channel to show", spec.CHANNELS, horizontal=True,
                       **view.widget("channel"))
    ci = "RGB".index(channel)
    vals, prods = window.values[..., ci], window.products[..., ci]
    kern = kernel[..., ci] if kernel.ndim == 3 else kernel
else:
    vals, kern, prods = window.values[..., 0], kernel_view, window.products[..., 0]
gc = st.columns(3)
gc[0].plotly_chart(maps.grid_figure(vals, title="Input window", colorscale=theme.GREY),
                   width="stretch")
gc[1].plotly_chart(maps.grid_figure(kern, title="× kernel"), width="stretch")
gc[2].plotly_chart(maps.grid_figure(prods, title="= products"), width="stretch")
in_pad = int(((window.rows < 0) | (window.rows >= h)).sum() * len(window.cols)
             + ((window.cols < 0) | (window.cols >= w)).sum() * len(window.rows))
st.markdown(
    f"Output pixel (row {row}, col {col}) reads input rows {window.rows[0]}…{window.rows[-1]} "
    f"and columns {window.cols[0]}…{window.cols[-1]} (every {dilation} pixel(s); stride "
    f"{stride} moves the window by {stride}). Sum of all "
    f"{window.products.size} products = **{window.total:.4f}**, the value in the map: "
    f"{response[row, col]:.4f}."
    + (" Taps that fall on padding read zeros." if in_pad else "")
)
if colour:
    parts = [window.products[..., i].sum() for i in range(3)]
    st.markdown(f"Per channel: R {parts[0]:.4f} + G {parts[1]:.4f} + B {parts[2]:.4f} = "
                f"{sum(parts):.4f}.")

# ---------------------------------------------------------- 5. colour channels
if colour:
    st.header("5 · Colour: one kernel slice per channel, summed")
    st.markdown(
        "A conv layer's kernel has one k×k slice per input channel. It filters R, G and B "
        "separately and **adds** the three maps: one output channel per kernel, whatever the "
        "number of input channels.")
    with ui.guard("the per-channel maps"):
        parts = conv.convolve_channels(x, kernel, stride=stride, padding=padding,
                                       dilation=dilation)
        parts_shown = [parts[..., i] for i in range(3)] + [parts.sum(axis=2)]
        titles = ("R part", "+ G part", "+ B part", "= the response")
        for i in range(4):
            if i % 2 == 0:
                pc = st.columns(2)
            pc[i % 2].plotly_chart(maps.map_figure(parts_shown[i], title=titles[i]),
                                   width="stretch")

# ---------------------------------------------------------- take it home
view.publish()
view.take_home(
    page_numbers(x, kernel, g, response, (row, col), window.total, ncc),
    {"image": image_u8, "x": x, "kernel": kernel, "response": response,
     "window_products": window.products, **({"ncc": ncc} if ncc is not None else {})})
