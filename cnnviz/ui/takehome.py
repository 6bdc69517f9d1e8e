"""Code and maths beside the demo, and the view to take home: the Python that
reproduces it, its formulas with the current numbers, a notebook and the data
behind the figures (see ``cnnviz.notebooks``)."""

from __future__ import annotations

import streamlit as st

from cnnviz import notebooks, views


def take_home(view: views.View, numbers: dict, arrays: dict, *, link: str) -> None:
    """One expander: the formulas of this view (numbers filled in), its code (settings
    filled in) and the numbers the code prints; buttons to download it as a notebook and
    the figures' data."""
    page = views.spec(view.page)
    code = notebooks.code(view)
    maths = notebooks.maths(view, numbers)
    with st.expander("The code and the maths of this view", icon=":material/code:"):
        for line in maths:
            st.latex(line)
        st.caption("Python with the `cnnviz` library and plain Keras, the settings above "
                   "filled in. Its last cell prints the numbers this page shows:")
        st.code(repr(numbers), language="python", wrap_lines=True)
        st.code(code, language="python", wrap_lines=True)
        buttons = st.columns(2)
        buttons[0].download_button(
            "Download as notebook", on_click="ignore", icon=":material/download:",
            data=lambda: notebooks.notebook_bytes(view, link=link, maths_lines=maths),
            file_name=f"cnnviz-{page.page}.ipynb", mime="application/x-ipynb+json",
            key=f"{page.page}_notebook")
        buttons[1].download_button(
            "Download the figures' data (zip)", on_click="ignore", icon=":material/table:",
            data=lambda: notebooks.data_zip(arrays, numbers, view, link=link),
            file_name=f"cnnviz-{page.page}-data.zip", mime="application/zip",
            key=f"{page.page}_data")
