"""The Architecture lab in AppTest: every control of the builder, diagrams and demos."""

from __future__ import annotations

from pathlib import Path

import pytest
from apppredict import question_text, skip_questions
from pagejobs import finish_jobs
from streamlit.testing.v1 import AppTest
from viewpages import notices

from cnnviz import architecture as A
from cnnviz import nettext

ROOT = Path(__file__).resolve().parents[1]
PAGE = "pages/3_Architecture.py"


@pytest.fixture(scope="module")
def page():
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=240).run()
    at.switch_page(PAGE)
    at.run()
    assert not at.exception
    return skip_questions(at)  # see every result without predicting it first


def _metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def _ok(at):
    assert not at.exception
    assert not [e.value for e in at.error], [e.value for e in at.error]


def test_default_page_shows_table_diagram_code(page):
    at = page
    _ok(at)
    shape, spec = A.preset("Tiny VGG")
    assert _metric(at, "Parameters") == f"{A.totals(A.analyze(spec, shape))['params']:,}"
    assert any("keras.Model(inputs, x)" in c.value for c in at.code)
    assert len(at.get("plotly_chart")) >= 3  # builder, model diagram, 1x1 figure, ...
    assert any(i.value.startswith("Choose the settings") for i in at.info)
    assert any(c.value.startswith("Depth 50, 40 steps: about") for c in at.caption)


@pytest.mark.parametrize("name", list(A.PRESETS))
def test_presets_load(page, name):
    at = page
    at.selectbox(key="arch_preset").set_value(name)
    at.button(key="arch_load").click().run()
    _ok(at)
    shape, spec = A.preset(name)
    assert _metric(at, "Parameters") == f"{A.totals(A.analyze(spec, shape))['params']:,}"
    assert at.number_input(key="arch_h").value == shape[0]


def test_too_small_input_is_reported_on_the_row(page):
    at = page
    at.selectbox(key="arch_preset").set_value("LeNet-5")
    at.button(key="arch_load").click().run()
    at.number_input(key="arch_h").set_value(8).run()
    assert not at.exception
    assert any("Layer 3" in e.value and "smaller" in e.value for e in at.error)
    assert _metric(at, "Output") == "invalid"
    at.number_input(key="arch_h").set_value(32)
    at.number_input(key="arch_w").set_value(32)
    at.number_input(key="arch_c").set_value(3).run()
    _ok(at)
    assert _metric(at, "Parameters") == "62,006"  # 3 input channels: 5*5*2*6 = 300 more weights
    assert not at.warning


def test_one_pixel_input_is_flagged_on_the_rows(page):
    at = page
    at.selectbox(key="arch_preset").set_value("Tiny VGG")
    at.button(key="arch_load").click().run()
    at.number_input(key="arch_h").set_value(1)
    at.number_input(key="arch_w").set_value(1).run()
    assert not at.exception
    warnings = [w.value for w in at.warning]
    assert any("1x1 input is too small" in w for w in warnings)
    assert any(w.startswith("Layer 1: Receptive field 3 px is wider than the 1 px input")
               for w in warnings)
    table = at.table[0].value
    assert "Downsamples a 1x1 map: nothing left to shrink." in set(table["problem"])
    at.number_input(key="arch_h").set_value(64)
    at.number_input(key="arch_w").set_value(64).run()
    _ok(at)
    assert not at.warning


def test_editor_edit_add_delete_and_reorder(page):
    at = page
    at.selectbox(key="arch_preset").set_value("Tiny VGG")
    at.button(key="arch_load").click().run()
    key = at.data_editor[0].key
    at.session_state[key] = {
        "edited_rows": {0: {"filters": 8}},
        "added_rows": [{"kind": "Dense", "filters": 3, "activation": "linear"}],
        "deleted_rows": [12],
    }
    at.run()
    _ok(at)
    _, spec = A.preset("Tiny VGG")
    spec = [A.LayerSpec("conv", filters=8)] + spec[1:12] + [A.LayerSpec(
        "dense", filters=3, activation="linear")]
    expected = A.totals(A.analyze(spec, (64, 64, 3)))["params"]
    assert _metric(at, "Parameters") == f"{expected:,}"
    # move the (flattening-critical) Flatten layer up: Dense on 4-D is reported
    at.number_input(key="arch_move").set_value(10)
    at.button(key="arch_up").click().run()
    assert not at.exception
    assert any("Flatten" in e.value for e in at.error)
    at.number_input(key="arch_move").set_value(9)
    at.button(key="arch_down").click().run()
    _ok(at)
    assert _metric(at, "Parameters") == f"{expected:,}"


def test_check_with_keras(page):
    at = page
    at.button(key="arch_check").click().run()
    _ok(at)
    assert any(s.value.startswith("Keras:") and "matches" in s.value for s in at.success)


def test_model_diagram_tab(page):
    at = page
    at.selectbox(key="arch_model").set_value("shapes_cnn").run()
    _ok(at)
    assert any(m.label == "Parameters" and m.value.replace(",", "").isdigit()
               for m in at.metric)


def test_pointwise_controls_and_calculator(page):
    at = page
    at.selectbox(key="pw_layer").set_value("block2_conv2")
    at.slider(key="pw_k").set_value(5)
    at.slider(key="pw_row").set_value(3)
    at.slider(key="pw_col").set_value(30).run()
    _ok(at)
    assert any("32x32x32" in m.value and "32x32x5" in m.value for m in at.markdown)
    # Andrew Ng's classic example: 28x28x192 -> 5x5 conv to 32, via a 16-channel bottleneck
    at.number_input(key="bn_h").set_value(28)
    at.number_input(key="bn_w").set_value(28)
    at.number_input(key="bn_cin").set_value(192)
    at.number_input(key="bn_cout").set_value(32)
    at.selectbox(key="bn_k").set_value(5)
    at.number_input(key="bn_b").set_value(16).run()
    _ok(at)
    assert _metric(at, "5x5 conv directly") == "120.4 M MACs"
    assert _metric(at, "1x1 to 16, then 5x5") == "12.4 M MACs"
    assert _metric(at, "Saving") == "9.7x fewer MACs"


def test_inception_tab_shows_the_trained_block(page):
    at = page
    _ok(at)
    words = " ".join(e.value for e in [*at.markdown, *at.caption])
    assert "random" not in words.lower()
    assert any("A small inception net trained here" in m.value for m in at.markdown)
    at.selectbox(key="inc_block").set_value("inception_10").run()
    _ok(at)
    # block 2: 1x1 24 + 3x3 48 + 5x5 12 + pool proj 12 = 96 channels at 8x8
    assert any("8 x 8 x 96" in c.value for c in at.caption)
    # maxpool_9 units see 30 px, 8 px apart: the 5x5 branch sees 30 + 4 * 8 = 62 px
    assert any(m.value.startswith("**1x1 → 5x5**") and "sees **62 px**" in m.value
               for m in at.markdown)
    assert any(m.value.startswith("Measured (50% of |gradient|)") for m in at.markdown)
    assert "moved by the widest area of the image" in question_text(at)


def test_residual_form_runs_and_caches(page):
    at = page
    at.slider(key="res_depth").set_value(10)
    at.selectbox(key="res_act").set_value("sigmoid")
    at.checkbox(key="res_bn").uncheck()
    at.slider(key="res_steps").set_value(10)
    submit = next(b for b in at.button if b.label == "Measure both networks")
    submit.click().run()
    _ok(at)
    assert finish_jobs(at, "residual").state == "done"
    _ok(at)
    # asked before the result: the plain net's first-layer gradient, measured "much smaller"
    assert "first layer compare with its last" in question_text(at)
    assert not [m for m in at.metric if m.label.startswith("Plain:")]
    skip_questions(at)
    plain = float(_metric(at, "Plain: first / last layer gradient"))
    assert plain < 0.1
    text = question_text(at)
    assert "Plain: the backward signal shrinks more than 10x" in text
    assert "sigmoid's slope is at most 1/4" in text
    assert any(r"\prod_{l=2}^{L}" in latex.value for latex in at.latex)
    caption = next(c.value for c in at.caption if c.value.startswith("Measured in"))
    at.slider(key="pw_k").set_value(6).run()  # any other control: no retraining
    _ok(at)
    assert next(c.value for c in at.caption if c.value.startswith("Measured in")) == caption


def test_imagenet_model_diagram_when_cached(fake_imagenet_home):
    from cnnviz.ui.resources import model_infos

    model_infos.clear()  # listed a minute ago, before the weights were "cached"
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=240).run()
    at.switch_page(PAGE)
    at.run()
    assert "MobileNetV2 (ImageNet, 1000 classes)" in at.selectbox(key="arch_model").options
    at.selectbox(key="arch_model").set_value("mobilenet_v2").run()
    _ok(at)
    params = next(m.value for m in at.metric if m.label == "Parameters"
                  and m.value.replace(",", "").isdigit() and int(m.value.replace(",", "")) > 1e6)
    assert params == "3,538,984"  # MobileNetV2 1.0 with its 1000-class head


def test_empty_network_is_just_the_input(page):
    at = page
    at.selectbox(key="arch_preset").set_value("LeNet-5")
    at.button(key="arch_load").click().run()
    at.session_state[at.data_editor[0].key] = {
        "edited_rows": {}, "added_rows": [], "deleted_rows": list(range(8))}
    at.run()
    _ok(at)
    assert _metric(at, "Parameters") == "0"
    assert _metric(at, "Output") == "32 x 32 x 1"
    at.button(key="arch_check").click().run()
    _ok(at)


def _builder(at) -> tuple:
    """What the builder shows: its input, its layers, the analysis' totals and shapes."""
    shape = tuple(at.number_input(key=key).value for key in ("arch_h", "arch_w", "arch_c"))
    kinds = list(at.data_editor[0].value["kind"])
    shapes = list(at.table[0].value["output shape"])
    return shape, kinds, _metric(at, "Parameters"), _metric(at, "Multiply-adds (MACs)"), shapes


@pytest.mark.slow  # eight runs of the page
def test_a_link_fills_the_builder_and_the_link_carries_its_edits(page):
    """Last in this file: it leaves the page on another network."""
    at = page
    net = "32x32x1,conv-8-k5,maxpool-2,flatten,dense-10-linear"  # a lecturer's network
    at.query_params = {"net": net}
    at.switch_page(PAGE).run()
    _ok(at)
    shape, spec = nettext.parse_net(net)
    rows = A.analyze(spec, shape)
    total = A.totals(rows)
    assert _builder(at) == (shape, [A.KINDS[layer.kind] for layer in spec],
                            f"{total['params']:,}", A.human(total["macs"]),
                            [" x ".join(map(str, row.shape)) for row in rows])
    assert at.query_params == {"net": net} and not notices(at)
    # the student edits a cell: the page's link carries the new network
    at.session_state[at.data_editor[0].key] = {
        "edited_rows": {0: {"filters": 4}}, "added_rows": [], "deleted_rows": []}
    at.run()
    edited = "32x32x1,conv-4-k5,maxpool-2,flatten,dense-10-linear"
    assert at.query_params == {"net": edited}
    shown = _builder(at)
    # another page and back (the sidebar's link has no query): the edited network stays
    at.query_params = {}
    at.switch_page("streamlit_app.py").run()
    at.switch_page(PAGE).run()
    _ok(at)
    assert _builder(at) == shown and at.query_params == {"net": edited}
    # a preset
    at.selectbox(key="arch_preset").set_value("Tiny ResNet")
    at.button(key="arch_load").click().run()
    assert at.query_params == {"net": nettext.net_text(*reversed(A.preset("Tiny ResNet")))}
    # more layers than a link holds: said, and the link opens on the default network
    at.session_state[at.data_editor[0].key] = {
        "edited_rows": {}, "deleted_rows": [],
        "added_rows": [{"kind": "Dense", "filters": 3}]
        * (nettext.MAX_LAYERS + 1 - len(A.preset("Tiny ResNet")[1]))}
    at.run()
    assert not at.exception and at.query_params == {}
    assert any(w.value.startswith("This network cannot travel in a link: the network has 41 "
                                  "layers; a link holds at most 40.") for w in at.warning)
    # a network a link cannot hold: the default preset, one notice
    at.query_params = {"net": "64x64x3,pool-2"}
    at.switch_page(PAGE).run()
    _ok(at)
    assert notices(at) == ["This link: network: layer 1 'pool-2': 'pool' is not a layer type (one "
                           "of conv, conv1x1, maxpool, avgpool, batchnorm, dropout, inception, "
                           "residual, gap, gmp, flatten, dense); showing the Tiny VGG preset."]
    shape, spec = A.preset("Tiny VGG")
    assert _builder(at)[:3] == (shape, [A.KINDS[layer.kind] for layer in spec],
                                f"{A.totals(A.analyze(spec, shape))['params']:,}")
    assert at.query_params == {}
