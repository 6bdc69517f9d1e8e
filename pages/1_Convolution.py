"""Convolution: a sliding weighted sum that finds what looks like the kernel, in another
image (C1); stride, padding, dilation and the output size (C2)."""

import time

import numpy as np
import scipy.signal  # noqa: F401 - imported up front: the timing below is the maths alone
import streamlit as st

from cnnviz import conv, matching, questions, ui
from cnnviz.figures import maps, theme
from cnnviz.figures import matching as match_figures
from cnnviz.notebooks.convolution import numbers as page_numbers
from cnnviz.ui import convolution as parts
from cnnviz.views import convolution as spec

ui.page_setup("Convolution")

view = ui.page_view("convolution", prefix="conv_")
choice = ui.image_picker()
view.settle(**spec.facts(choice.image))
page = ui.page_layout(
    "How does a convolution find a pattern in an image?",
    "A convolution slides a small grid of weights, the **kernel**, over an image and adds "
    "up weight × pixel at every position. Cut the kernel from one image: the sums are "
    "highest where another image looks like it.")
compare, knobs, pixel, colours = st.container(), st.container(), st.container(), st.container()

with page.controls:
    setup = parts.kernel_controls(view, choice)

with knobs:
    st.header("How do stride, padding and dilation set the output size?")
    kn = st.columns(4)
    stride = kn[0].slider("Stride", 1, 8, help="How many pixels the kernel moves between two "
                          "outputs.", **view.widget("stride"))
    pad_mode = kn[1].selectbox("Padding", list(spec.PADDINGS), format_func=spec.PADDINGS.get,
                               help="Zeros added around the image before sliding.",
                               **view.widget("pad"))
    pad_n = kn[2].number_input("Padding pixels", 0, 64, disabled=pad_mode != "number",
                               **view.widget("padn"))
    dilation = kn[3].slider("Dilation", 1, 8, help="Gaps between the kernel's taps: a wider "
                            "view, same weights.", **view.widget("dil"))
    padding = int(pad_n) if pad_mode == "number" else pad_mode
knobs_used = dict(stride=stride, padding=padding, dilation=dilation)

with page.figure:
    view.bar()
    response = None
    with ui.guard("the convolution"):
        g = conv.geometry(setup.x.shape[:2], setup.kernel.shape[:2], **knobs_used)
        t0 = time.perf_counter()
        response = conv.convolve(setup.x, setup.kernel, **knobs_used)
        elapsed = 1000 * (time.perf_counter() - t0)
if response is None:
    view.publish()
    st.stop()

# ------------------------------------------------------------- measure
kh, kw = setup.kernel.shape[:2]
flat_note = parts.flat_patch_note(setup)
ncc = matches = scores = None
if setup.patch and flat_note is None:
    ncc = conv.match_template(setup.x, setup.kernel)
    matches = matching.top_matches(ncc, st.session_state["conv_matches"], (kh, kw),
                                   masks=setup.pair.masks)
    if setup.pair.masks is not None:
        scores = matching.object_scores(ncc, (kh, kw), setup.pair.masks)
peak = np.unravel_index(int(np.argmax(response)), response.shape)
image_key = f"{setup.name}:{setup.x.shape}:{setup.x.sum():.6g}"
row, col, pick_ver, pick_note = parts.follow_pick(view, g, peak, image_key)
window = conv.window_at(setup.x, setup.kernel, row, col, **knobs_used)
win_box = parts.window_box(window, setup.x.shape[:2])

if ncc is not None:
    best = matches[0]
    on = "" if best.on is None else f", on a {setup.pair.objects[best.on]}"
    peak_question = questions.click(
        "conv_peak", f"The kernel is cut from {setup.pair.kernel_name}. Where in "
        f"{setup.pair.search_name} will it match best? Click there.", tolerance=max(2, kh // 4))
    measured = questions.Measured(np.maximum(matching.on_input(
        ncc, conv.geometry(setup.x.shape[:2], (kh, kw))), 0), why=(
        f"normalised cross-correlation is highest ({best.score:.2f}) for the window centred "
        f"on row {best.centre[0]}, col {best.centre[1]}{on}"))
    if setup.pair.masks is not None:
        sentence = matching.scene_sentence(setup.pair, scores, conv.to_gray(
            setup.pair.kernel_image), conv.to_gray(setup.pair.search_image))
    else:
        sentence = matching.photo_sentence(setup.pair, matches, setup.cut[:2])
    asked_for = (image_key, setup.cut, f"{setup.kernel.sum():.6g}")
elif not setup.patch:
    centre = g.centre(*peak)
    peak_question = questions.click(
        "conv_peak", "Where will the response map be largest? Click the image there.",
        tolerance=max(2, g.effective_hw[0] // 2))
    on_image = matching.on_input(response, g)
    measured = questions.Measured(on_image - on_image.min(), why=(
        f"the response is largest ({response[peak]:.3g}) for the window centred on row "
        f"{centre[0]}, col {centre[1]}"))
    sentence = matching.kernel_sentence(setup.kernel, response)
    asked_for = (image_key, f"{setup.kernel.sum():.6g}", repr(g))

# ------------------------------------------------------------- the main figure
with page.figure:
    left, right = st.columns(2)
    result = right.container()  # above the question, once it is answered
    if setup.patch:
        left.plotly_chart(maps.map_figure(
            setup.pair.kernel_image, boxes=[setup.cut_box],
            title=f"The kernel: a {kh}×{kw} patch of {setup.pair.kernel_name}"),
            width="stretch")
    else:
        shown = setup.kernel.mean(axis=2) if setup.kernel.ndim == 3 else setup.kernel
        left.plotly_chart(maps.grid_figure(shown, title="The kernel's weights", span=0.5,
                                           height=360), width="stretch")
    revealed = False
    with right:
        if flat_note is not None:
            st.info(flat_note, icon=":material/texture:")
        else:
            revealed = ui.ask(peak_question, measured, context=asked_for, image=setup.image)
    if revealed:
        left.info(sentence, icon=":material/target:")
        if setup.patch:
            result.plotly_chart(match_figures.matches_figure(
                setup.image, matches, (kh, kw), window=win_box,
                title=f"The {len(matches)} best matches in {setup.pair.search_name}"),
                width="stretch")
            left.caption("Numbered boxes: the windows where normalised cross-correlation is "
                         "highest, with their scores. Green: the window explained below.")
        else:
            result.plotly_chart(match_figures.response_figure(
                response, title="Response = weighted sum at every position",
                marks=[(*peak, "", "gold")], pick=(row, col), colorbar_title="response"),
                width="stretch", on_select="rerun", selection_mode=("points",), key="conv_map")

# ------------------------------------------------------------- raw sum vs NCC
if revealed and ncc is not None:
    with compare:
        st.header("Raw weighted sum or normalised cross-correlation?")
        raw_col, ncc_col = st.columns(2)
        raw_col.plotly_chart(match_figures.response_figure(
            response, title="Raw response = weighted sum (★ its peak)",
            marks=[(*peak, "", "gold")], pick=(row, col), colorbar_title="response"),
            width="stretch", on_select="rerun", selection_mode=("points",), key="conv_map")
        ncc_col.plotly_chart(match_figures.response_figure(
            ncc, title="Normalised cross-correlation (stride 1, no padding)",
            marks=[(m.row, m.col, str(i + 1), match_figures.MATCH_COLOURS[i])
                   for i, m in enumerate(matches)],
            colorscale=theme.DIVERGING, vmin=-1, vmax=1, colorbar_title="NCC"),
            width="stretch")
        ui.explain(matching.raw_sentence(setup.x, response, g, best, setup.pair.masks,
                                         setup.pair.objects),
                   "Normalised cross-correlation subtracts both means and divides by both "
                   "norms, so only the pattern counts: 1 = the same pattern up to brightness "
                   "and contrast, 0 = unrelated, −1 = the pattern inverted.")

# ------------------------------------------------------------- output size
with knobs:
    in_w, pad_words = setup.x.shape[1], {"valid": "none ('valid')", "same": "'same'"}
    size_question = questions.number(
        "conv_size", f"The image is {in_w} pixels wide and the kernel {kw}; stride {stride}, "
        f"padding {pad_words.get(padding, f'{padding} pixels on each side')}, dilation "
        f"{dilation}. How many pixels wide is the response map?", unit="pixels")
    if ui.ask(size_question, questions.Measured(g.out_hw[1], why=g.formula(1))):
        st.markdown(
            r"Output size: $\lfloor (n + p - d(k-1) - 1) / s \rfloor + 1$ with n = input size,"
            " p = total padding, k = kernel size, d = dilation, s = stride. The dilated "
            f"kernel spans d(k-1)+1 = **{g.effective_hw[0]}x{g.effective_hw[1]}** pixels.")
        st.code(f"height: {g.formula(0)}\nwidth:  {g.formula(1)}", language=None,
                wrap_lines=True)
        pad_h, pad_w = g.pad_top + g.pad_bottom, g.pad_left + g.pad_right
        st.caption(f"Input {setup.x.shape[0]}x{in_w}, padding {pad_h} rows and {pad_w} "
                   f"columns in total → output **{g.out_hw[0]}x{g.out_hw[1]}**, computed in "
                   f"{elapsed:.0f} ms.")

# ------------------------------------------------------------- one pixel, colour
with pixel:
    st.header("One output pixel, step by step")
    st.caption(pick_note)
    parts.pixel_sliders(row, col, pick_ver, response.shape)
    parts.explain_pixel(view, setup, window, response, row, col, g)
if setup.colour:
    with colours, ui.guard("the per-channel maps"):
        parts.colour_parts(setup, **knobs_used)

view.publish()
view.take_home(
    page_numbers(setup.x, setup.kernel, g, response, (row, col), window.total, ncc, matches,
                 scores),
    {"image": setup.image, "x": setup.x, "kernel": setup.kernel, "response": response,
     "window_products": window.products,
     **({"ncc": ncc, "kernel_image": setup.pair.kernel_image} if ncc is not None else {})})
