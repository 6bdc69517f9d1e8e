"""The Pooling & receptive fields page in AppTest (tiny training settings)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import streamlit as st
from apppredict import skip_questions
from pagejobs import finish_jobs
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
PAGE = "pages/2_Pooling_and_Receptive_Fields.py"


@pytest.fixture
def page(job_pool):
    st.cache_resource.clear()  # no trained pair left over from another test
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120).run()
    at.switch_page(PAGE).run()
    at.radio(key="image_source").set_value("Synthetic shape").run()  # 64x64, fast
    skip_questions(at)  # see every result without predicting it first
    assert not at.exception
    return at


def _info(at) -> str:
    """What the page says in text: its explanations and notes."""
    return "\n".join([m.value for m in at.markdown] + [i.value for i in at.info])


def _figure_titles(at) -> list[str]:
    titles = []
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        title = spec.get("layout", {}).get("title", {})
        titles.append(title.get("text", "") if isinstance(title, dict) else str(title))
    return titles


def test_pooling_cuts_positions_and_cost(page):
    at = page
    assert "cutting 3,844 positions to 961" in _info(at)  # 62x62 edge map -> 31x31
    assert "(4.0x fewer)" in _info(at)
    at.select_slider(key="pool_win").set_value(3).run()
    at.select_slider(key="pool_pstride").set_value(3).run()
    assert "cutting 3,844 positions to 400" in _info(at)  # 20x20
    at.radio(key="pool_mode").set_value("average").run()
    assert "keeps the average of each 3x3 window" in _info(at)
    assert "After average pooling the strongest edge" in _info(at)
    assert not at.exception


def test_receptive_field_table_and_builder(page):
    at = page
    table = at.table[0].value
    rows = dict(zip(table["layer"], table["receptive field"]))
    assert rows["block1_conv1"] == "3x3" and rows["block3_conv2"] == "32x32"
    assert not any("bn" in name for name in rows)  # only layers that change the field
    # default pyramid: 3 blocks of two 3x3 convs and a 2x2 pool -> 36x36
    assert any("Last layer sees 36x36 pixels" in t for t in _figure_titles(at))
    at.selectbox(key="pool_down").set_value("none").run()
    assert any("Last layer sees 13x13 pixels" in t for t in _figure_titles(at))


def test_unit_receptive_fields(page):
    at = page
    next(s for s in at.slider if s.label == "Unit row").set_value(0).run()
    next(s for s in at.slider if s.label == "Unit column").set_value(5).run()
    assert "Unit (0, 5) of **block2_conv2** can see a **14x14** square" in _info(at) or (
        "switched off" in "\n".join(w.value for w in at.warning))
    at.selectbox(key="pool_layer").set_value("block3_conv2").run()
    assert not at.exception
    text = _info(at) + "\n".join(w.value for w in at.warning)
    assert "**32x32**" in text or "switched off" in text
    at.radio(key="image_source").set_value("Sample photo").run()  # a real photo, resized
    assert not at.exception and not at.error


@pytest.mark.slow  # trains the pooled and plain pair
def test_shift_probe_and_trained_pair(page):
    at = page
    at.slider(key="pool_shift").set_value(3).run()
    assert any(t.startswith("P('") for t in _figure_titles(at))
    assert "Shifted by up to 3 px, the feature maps change" in _info(at)
    assert "**81,925** of its 85,637 parameters" in _info(at)  # before any training
    assert "Press the button to train the pair" in "\n".join(c.value for c in at.caption)
    at.select_slider(key="pool_ntrain").set_value(500)
    at.slider(key="pool_epochs").set_value(1)
    at.slider(key="pool_seeds").set_value(1)
    button = next(b for b in at.button if b.label.startswith("Train both"))
    button.click().run(timeout=240)
    assert not at.exception
    assert finish_jobs(at, "pooled_vs_plain").result.complete
    skip_questions(at)  # the shift question, asked once the pair is trained
    info = _info(at)
    assert "Validation accuracy: pooled" in info and "one seed" in info
    assert "After a 2-pixel shift the pooled net keeps" in info
    assert any(t.startswith("Share of 60 validation images") for t in _figure_titles(at))
