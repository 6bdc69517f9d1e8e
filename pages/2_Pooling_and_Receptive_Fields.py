"""Pooling, the pyramid and receptive fields (C3), and shift invariance (C4)."""

import streamlit as st

from cnnviz import receptive, ui
from cnnviz.notebooks.pooling import numbers as page_numbers
from cnnviz.ui import pooling as parts
from cnnviz.views import pooling as spec

ui.page_setup("Pooling & receptive fields")

view = ui.page_view("pooling", prefix="pool_")
choice = ui.image_picker(default_source="Synthetic shape")
model = ui.get_model(spec.MODEL)
rfs = receptive.window_layers(model)
view.settle(**spec.facts(rfs))
page = ui.page_layout(
    "What does pooling do, and how far does a deep unit see?",
    "Pooling keeps one number per window: the map shrinks, later layers cost less, and "
    "each unit sees a wider part of the image. Predict the pooled width, then see it.")

with page.controls:
    pc = st.columns(3)
    mode = pc[0].radio("Pooling", list(spec.MODES), format_func=spec.MODES.get,
                       horizontal=True, **view.widget("mode"))
    size = pc[1].select_slider("Window", [2, 3, 4], **view.widget("win"))
    stride = pc[2].select_slider("Stride", [1, 2, 3, 4], **view.widget("pstride"))
fmap = parts.edge_map(choice.image)
pooled = None
with page.figure:
    view.bar()
    with ui.guard("pooling"):
        pooled, pool_revealed = parts.pooling_demo(fmap, mode, size, stride)
if pooled is not None and pool_revealed:
    parts.pooling_saving(fmap, pooled, mode, size, stride)

# ------------------------------------------------------- receptive fields
st.header("How far does one unit of a deep layer see?")
ui.explain("Each k×k layer widens a unit's field by (k − 1) × jump pixels; the **jump**, "
           "the product of the strides so far, is the distance between neighbouring units. "
           "Pooling multiplies the jump, so later layers widen the field faster.")
tc = st.columns([3, 2])
with tc[0]:
    st.markdown(f"**The built-in `{spec.MODEL}`** (64x64 input)")
    if parts.rf_question(rfs):
        st.table(parts.rf_table(rfs), hide_index=True)  # wraps, never hides a column
with tc[1]:
    parts.pyramid_builder(view)

st.header("Which pixels move one unit most?")
x = image64 = erf = None
unit = {}
with ui.guard("the receptive field of this unit"):
    x, image64, unit, erf = parts.unit_fields(view, choice, rfs)

# ------------------------------------------------------- shift invariance
st.header("Does shifting the image change the prediction?")
ui.explain("Convolution moves *with* the input: shift the image and every map shifts, so "
           "compared position by position it changes. Max pooling keeps each window's "
           "strongest response, so a small shift often stays in the same pooled cell.")
probe = None
if x is not None:
    with ui.guard("the shift probe"):
        probe = parts.shift_section(view, x, image64)
max_shift = int(st.session_state.get("pool_shift", spec.SPEC.param("shift").default))

st.header("What does pooling save, and does it steady the prediction?")
ui.explain("Two small CNNs, the same three 3x3 convolutions and a Flatten + Dense head, "
           "one with 2x2 max pooling after each convolution, trained alike on 32x32 "
           "silhouettes (shared by everyone who asks for the same settings).")
costs = parts.pair_costs_section()
runs = parts.pair_training(view)
if runs:
    parts.pair_results(runs, max_shift)

view.publish()
if pooled is not None and probe is not None:
    view.take_home(
        page_numbers(fmap, pooled, rfs, unit["layer"], unit["unit"], erf, probe, costs),
        {"edge_map": fmap, "pooled": pooled, "image": image64, "effective_rf": erf,
         "shift_change_per_layer": probe.change, "same_prediction": probe.same_prediction})
