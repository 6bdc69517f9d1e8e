"""cnnviz home: the first thing a CNN does, live; what the app teaches; what is ready.

Opens fast: nothing here imports TensorFlow.
"""

import numpy as np
import streamlit as st

from cnnviz import conv, ui
from cnnviz.figures import maps, theme
from cnnviz.ui import warm
from cnnviz.ui.home import data_status_rows, model_status_rows
from cnnviz.ui.navigation import PAGES
from cnnviz.ui.pageview import lost_link_notice
from cnnviz.ui.resources import sample_photos

ui.page_setup("Home")

KERNELS = ("Sobel x", "Sobel y", "Laplacian", "Gaussian blur", "sharpen")

page = ui.page_layout(
    "How does a convolutional network see an image?",
    "It starts like this: a small grid of weights, the **kernel**, slides over the image, "
    "and every position gives one number. Every screen of cnnviz builds, trains or probes "
    "a **real Keras model** live, with a number you can check.")
lost_link_notice()

photos = sample_photos()
with page.controls:
    left, middle, right = st.columns([2, 2, 3], vertical_alignment="bottom")
    kernel_name = left.selectbox("Kernel", KERNELS, key="home_kernel")
    photo = middle.selectbox("Photo", list(photos), key="home_photo")
    with right:
        ui.page_link_for("pages/1_Convolution.py", label="Cut your own kernel: Convolution")
with page.figure, ui.guard("the convolution"):
    image = conv.to_gray(conv.shrink(photos[photo], 256))
    response = conv.convolve(image, conv.classic_kernel(kernel_name, size=5))
    figures = st.columns(2)
    figures[0].plotly_chart(maps.map_figure(image, title=f"{photo}, in grey",
                                            colorscale=theme.GREY, vmin=0, vmax=1,
                                            colorbar_title="brightness"), width="stretch")
    strong = float(np.percentile(np.abs(response), 99.5)) or 1.0  # a few extremes saturate
    signed = response.min() < 0
    figures[1].plotly_chart(maps.map_figure(
        response, title=f"Its response to the {kernel_name} kernel",
        vmin=-strong if signed else None, vmax=strong, colorbar_title="response"),
        width="stretch")

st.header("What you can learn here")
columns = st.columns(2)
for slot, info in enumerate(info for info in PAGES if info.questions):
    with columns[slot % 2].container(border=True):
        ui.page_link_for(info.path)
        for question in info.questions:
            st.markdown(f"**{question.text}**  \n{question.demo}")

with st.expander("Using cnnviz in class", icon=":material/school:"):
    st.markdown(
        """
1. **Start with the convolution page.** Cut a patch out of a photo and use it as the
   kernel: the class sees template matching before any formula.
2. **Walk the pyramid.** On *Pooling & receptive fields*, click a deep unit and show how
   much of the image it sees; then build the same network in the *Architecture lab* and
   read off parameters and FLOPs.
3. **Look inside a trained model.** *Activations*, *Filters* and *Grad-CAM* all use the
   same image and model you picked in the sidebar — pick once, walk through the pages.
4. **Train live.** *Augmentation* and *Transfer learning* train small models in about a
   minute; start the run, explain the curves while they are drawn.

**On a projector**, switch on *Presenter view* in the sidebar (or add `?present=1` to a
link): larger text and figures, the sidebar folded away, long explanations folded into
expanders; it stays on as you move between pages. Links to a page can be shared (every
page opens by its URL); the sidebar choices are remembered while you move between pages.
"""
    )

with st.expander("Models and data on this server", icon=":material/dns:"):
    STATUS_ICON = {"ready": ":material/check_circle:"}
    for title, rows, name_key in (("Models", model_status_rows, "model"),
                                  ("Datasets", data_status_rows, "dataset")):
        with ui.guard(f"the {title.lower()} list"):
            st.subheader(title)
            for row in rows():
                icon = STATUS_ICON.get(row["status"], ":material/cloud_off:")
                st.markdown(f"{icon} **{row[name_key]}** · {row['status']}  \n"
                            f"{row['details']}")
    st.subheader("Warm-up")
    st.markdown(warm.status().sentence())
