"""cnnviz home: what the app teaches, what is ready, how to use it in class.

Opens fast: nothing here imports TensorFlow.
"""

import streamlit as st

from cnnviz import ui
from cnnviz.ui.home import data_status_rows, model_status_rows
from cnnviz.ui.navigation import PAGES
from cnnviz.ui.pageview import lost_link_notice

ui.page_setup("Home")

st.title(":material/neurology: cnnviz: see how a CNN works")
lost_link_notice()
st.markdown(
    "Every screen builds, trains or probes a **real Keras model** live and shows the idea "
    "*happening*, with a number you can check — change a knob and watch the effect."
)

st.header("What you can learn here")
columns = st.columns(2)
for slot, page in enumerate(page for page in PAGES if page.questions):
    with columns[slot % 2].container(border=True):
        ui.page_link_for(page.path)
        for question in page.questions:
            st.markdown(f"**{question.text}**  \n{question.demo}")

st.header("Models and data on this server")
STATUS_ICON = {"ready": ":material/check_circle:"}
for title, rows, name_key in (("Models", model_status_rows, "model"),
                              ("Datasets", data_status_rows, "dataset")):
    with ui.guard(f"the {title.lower()} list"):
        st.subheader(title)
        for row in rows():
            icon = STATUS_ICON.get(row["status"], ":material/cloud_off:")
            st.markdown(f"{icon} **{row[name_key]}** · {row['status']}  \n{row['details']}")

st.header("Using cnnviz in class")
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

Tips: links to a page can be shared (every page opens by its URL); the sidebar choices
are remembered while you move between pages; every figure says which settings made it.
"""
)
