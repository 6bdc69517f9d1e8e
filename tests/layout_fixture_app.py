"""A page that breaks every rule ``tests/layoutcheck.py`` checks, once each, so that
``tests/test_layout.py`` can show the checks catch what they claim to.

Run by the test as its own app: ``streamlit run tests/layout_fixture_app.py``.
"""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

st.set_page_config(layout="wide")
narrow, _ = st.columns([1, 5])
narrow.selectbox("Too long", ["a value far too long for this narrow column"])
narrow.multiselect("Chips", ["first chip", "second chip", "third chip"],
                   default=["first chip", "second chip", "third chip"], wrap=False)
small = go.Figure(go.Scatter(y=[1, 2, 3]))
small.update_layout(height=300, title="tiny ticks")
small.update_xaxes(tickfont={"size": 10})
st.plotly_chart(small)
cut = go.Figure(go.Scatter(y=[1, 2]))
cut.update_layout(width=300, height=250, margin={"l": 0, "r": 0},
                  title={"text": "a title much wider than its small chart " * 2,
                         "font": {"size": 16}}, font={"size": 16})
st.plotly_chart(cut, width="content")
st.dataframe(pd.DataFrame({f"a rather long column name {i}": [i] for i in range(12)}),
             width=400)
st.container(height=800, border=False)  # pushes the main figure off the first screen
with st.container(key="main-figure"):
    st.write("the main figure")
