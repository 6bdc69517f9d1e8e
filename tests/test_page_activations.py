"""The Activations page in AppTest: maps per layer, Keras code, statistics, side by side."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from apppredict import skip_questions
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
PAGE = "pages/6_Activations.py"


@pytest.fixture(scope="module")
def page():
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=180).run()
    at.switch_page(PAGE).run()
    skip_questions(at)  # see every result without predicting it first
    assert not at.exception
    return at


def _overview_rows(at):
    """The row titles of the page's main figure: one row of maps per chosen layer."""
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    return [note["text"] for note in spec["layout"]["annotations"]]


def test_feature_maps_code_and_enlarged_map(page):
    at = page
    assert not at.error
    layers = at.multiselect(key="act_layers_shapes_cnn").value
    assert layers == ["block1_conv1", "block2_conv2", "block3_conv2"]
    assert _overview_rows(at) == ["block1_conv1 — 64×64 pixels, 16 channels",
                                  "block2_conv2 — 32×32 pixels, 32 channels",
                                  "block3_conv2 — 16×16 pixels, 64 channels"]
    subheaders = [s.value for s in at.subheader]
    assert subheaders[0].startswith("Enlarged: block1_conv1, channel ")
    code = next(c.value for c in at.code if "keras.Model(" in c.value)
    assert "keras.Model(" in code and "model.get_layer('block3_conv2').output" in code
    # the 64-channel layer pages through its channels
    at.selectbox(key="act_all_layer").set_value("block3_conv2").run()
    assert "block3_conv2 — 16×16 pixels, 64 channels" in [s.value for s in at.subheader]
    assert at.slider(key="act_rank").max == 32


def test_statistics_table_shows_the_hierarchy(page):
    at = page
    table = at.dataframe[0].value
    assert list(table["layer"])[0] == "block1_conv1"
    assert table["height"].iloc[0] == 64 and table["height"].iloc[-1] == 16
    assert table["channels"].iloc[-1] == 64
    zeros = table["fraction zero"].dropna()
    assert ((zeros >= 0) & (zeros <= 1)).all() and len(zeros) == 6
    # a pooling layer after BatchNormalization has signed outputs: no zeros counted there
    pools = table[table["layer"].str.endswith("pool")]
    assert pools["fraction zero"].isna().all()
    assert (pools["zeros counted at"] == "no non-linearity").all()
    assert any("the maps shrink from" in m.value for m in at.markdown)
    assert any("counted after each non-linearity" in m.value for m in at.markdown)


def test_the_feature_hierarchy_is_measured_and_rises(page):
    at = page
    probe = at.dataframe[1].value
    assert list(probe["layer"]) == list(at.dataframe[0].value["layer"])
    assert probe["probe accuracy"].iloc[-1] - probe["probe accuracy"].iloc[0] >= 0.15
    assert (probe["probe accuracy"] <= 1).all() and (probe["± over splits"] >= 0).all()
    assert "Deeper layers separate the classes better." in [m.value for m in at.markdown]
    text = "\n".join(m.value for m in at.markdown)
    assert "a linear probe reads the shape from block1_conv1 at" in text


def test_choosing_layers_and_layer_scaling(page):
    at = page
    at.multiselect(key="act_layers_shapes_cnn").set_value(["block2_pool"]).run()
    assert not at.exception and not at.error
    assert _overview_rows(at) == ["block2_pool — 16×16 pixels, 32 channels"]
    assert "block2_pool — 16×16 pixels, 32 channels" in [s.value for s in at.subheader]
    at.radio(key="act_scale").set_value("layer").run()
    assert not at.exception
    at.selectbox(key="act_pair").set_value("block3_conv1").run()
    assert not at.exception and not at.error


@pytest.mark.slow  # builds and saves a MobileNetV2 for the fake cache
def test_mobilenet_v2_lists_its_relu_layers(fake_imagenet_home):
    import streamlit as st

    st.cache_resource.clear()  # the model list is cached; it must see the fake cache
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=300).run()
    at.switch_page(PAGE).run()
    at.selectbox(key="model").set_value("mobilenet_v2").run()
    skip_questions(at, timeout=300)
    assert not at.exception and not at.error
    assert at.multiselect(key="act_kinds_mobilenet_v2").value == ["activation", "pool"]
    chosen = at.multiselect(key="act_layers_mobilenet_v2").value
    assert chosen[0] == "Conv1_relu" and chosen[-1] == "out_relu"
    assert at.dataframe[0].value["height"].iloc[0] == 112
    st.cache_resource.clear()
