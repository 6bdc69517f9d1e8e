"""Every figure builder follows the projector template; the one colour map."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from types import SimpleNamespace

import numpy as np
import pytest
from figurecheck import DIVERGING, assert_follows_template

import cnnviz.figures
from cnnviz import archdemo
from cnnviz import architecture as A
from cnnviz.errors import ImageError
from cnnviz.figures import (
    activations,
    architecture,
    attribution,
    colour,
    diagram,
    maps,
    questions,
    receptive,
    residual,
    theme,
    training,
    transfer,
)
from cnnviz.figures import (
    matching as matching_figures,
)

RNG = np.random.default_rng(0)
SIGNED = RNG.normal(size=(12, 16))
POSITIVE = RNG.random((12, 16))
HISTORY = {"loss": [1.0, 0.6, 0.4], "accuracy": [0.4, 0.7, 0.9],
           "val_loss": [1.1, 0.8, 0.7], "val_accuracy": [0.3, 0.6, 0.7]}
PHASES = [SimpleNamespace(name=f"phase {n}", trainable=t, frozen=f,
                          counts=[{"block": "base", "trainable": t - 10, "frozen": f},
                                  {"block": "head", "trainable": 10, "frozen": 0}])
          for n, t, f in ((1, 10, 0), (2, 10, 5000), (3, 2010, 3000))]
RESULT = {"settings": {"steps": 4, "classes": 5},
          **{name: {"init": list(RNG.random(6)), "trained": list(RNG.random(6)),
                    "loss": list(1.6 - RNG.random(4))} for name in ("plain", "residual")}}
POINTWISE = SimpleNamespace(weights=RNG.normal(size=(8, 5)), vector=RNG.normal(size=8),
                            sums=RNG.normal(size=5))


def _cost(name, params, macs, head):
    from cnnviz.pooling import LayerCost

    return LayerCost(name, "Dense" if head else "Conv2D", (5,), params, macs, head)


#: One call of every builder, with small made-up inputs.
BUILDERS = {
    "maps.map_figure signed": lambda: maps.map_figure(SIGNED, title="Raw response",
                                                      peak=True, pick=(2, 3)),
    "maps.map_figure positive": lambda: maps.map_figure(POSITIVE, title="Magnitudes"),
    "maps.map_figure overlay": lambda: maps.map_figure(
        (POSITIVE[..., None] * [255, 128, 0]).astype(np.uint8),
        overlay_scale=(theme.SEQUENTIAL, 0.0, 1.0, "map")),
    "maps.grid_figure": lambda: maps.grid_figure(SIGNED[:3, :3], title="× kernel"),
    "maps.grid_figure grey": lambda: maps.grid_figure(POSITIVE[:3, :3], colorscale=theme.GREY),
    "maps.colour_legend": lambda: maps.colour_legend("value", ticks={0: "low", 1: "high"}),
    "activations.statistics_figure": lambda: activations.statistics_figure(
        [{"depth": d, "layer": f"conv{d}", "height": 64 >> d, "channels": 16 << d,
          "fraction zero": 0.2 * d, "mean activation": 0.3} for d in range(4)]),
    "activations.feature_map_grid_figure": lambda: activations.feature_map_grid_figure(
        POSITIVE[None].repeat(10, 0), [f"c{i}" for i in range(10)], cols=4),
    "activations.map_rows_figure": lambda: activations.map_rows_figure(
        [("conv1 — 16×16", RNG.random((5, 16, 16)), [f"conv1:{i}" for i in range(5)]),
         ("conv2 — 8×8", RNG.random((3, 8, 8)), [f"conv2:{i}" for i in range(3)])], cols=4),
    "activations.channel_strength_figure": lambda: activations.channel_strength_figure(
        [("cat", RNG.random(8)), ("cat", RNG.random(8))]),
    "activations.activation_curves_figure": lambda: activations.activation_curves_figure(
        RNG.random((30, 24)), list(range(24))),
    "architecture.pointwise_figure": lambda: architecture.pointwise_figure(POINTWISE),
    "architecture.channel_tiles_figure": lambda: architecture.channel_tiles_figure(
        RNG.normal(size=(6, 7, 10)), 8, cols=4, mark=(2, 5), title="Output"),
    "architecture.channel_tiles_figure narrow": lambda: architecture.channel_tiles_figure(
        RNG.random((6, 6, 4)), 4, cols=2, span=0.25),
    "architecture.concat_figure": lambda: architecture.concat_figure(
        {"1x1": 8, "1x1 → 3x3": 16, "1x1 → 5x5": 4, "pool → 1x1": 4}),
    "architecture.branch_field_figure": lambda: architecture.branch_field_figure(
        SimpleNamespace(centre=(31.5, 31.5), branches={
            "1x1 → 3x3": archdemo.BranchScale(
                "1x1 → 3x3", "inc_3x3", RNG.random((16, 16, 4)), 18,
                np.outer(np.hanning(64), np.hanning(64)), {0.5: 5, 0.9: 8}),
            "1x1": archdemo.BranchScale("1x1", "inc_1x1", RNG.random((16, 16, 4)), 10,
                                        np.zeros((64, 64)), {0.5: 0, 0.9: 0})}),
        "1x1 → 3x3", 0.9),
    "diagram.spec_diagram": lambda: diagram.spec_diagram(*reversed(A.preset("Tiny ResNet"))),
    "attribution.gradient_channels_figure": lambda: attribution.gradient_channels_figure(
        RNG.random((7, 7, 12)), RNG.normal(size=(7, 7, 12)), [1, 4, 5, 9]),
    "attribution.channel_weights_figure": lambda: attribution.channel_weights_figure(
        RNG.normal(size=20)),
    "attribution.sanity_figure": lambda: attribution.sanity_figure(
        ["trained", "down to dense", "down to conv1"], [1.0, 0.4, 0.1]),
    "attribution.localisation_figure": lambda: attribution.localisation_figure(
        ["Grad-CAM", "random"], {"pointing game": [0.9, 0.2], "energy inside": [0.6, 0.2]},
        0.2),
    "attribution.class_maps_figure": lambda: attribution.class_maps_figure(
        (POSITIVE[..., None] * [255, 128, 0]).astype(np.uint8), RNG.random((4, 6, 8)),
        ["<b>circle</b> · p 90%<br>peak 1.2", "square<br>near-empty", "star", "cross"],
        scale=1.2, empty=[False, True]),
    "attribution.scene_pointing_figure": lambda: attribution.scene_pointing_figure(
        ["Grad-CAM", "random map"], [0.9, 0.06], [0.05, 0.08], 0.06),
    "attribution.deletion_insertion_figure": lambda: attribution.deletion_insertion_figure(
        np.linspace(0, 1, 5), {"Grad-CAM": RNG.random(5), "random map": RNG.random(5)},
        {"Grad-CAM": RNG.random(5), "random map": RNG.random(5)}, ylabel="p(circle)"),
    "receptive.receptive_growth_figure": lambda: receptive.receptive_growth_figure(
        ["1. conv", "2. pool", "3. conv"], [3, 4, 8], [1, 2, 2]),
    "receptive.shift_change_figure": lambda: receptive.shift_change_figure(
        RNG.random((3, 4)), [1, 2, 4], ["conv1", "conv2", "conv3", "head"]),
    "receptive.shift_probability_figure": lambda: receptive.shift_probability_figure(
        [0, 1, 2], [0.9, 0.8, 0.3], ["circle", "", "square"], "circle"),
    "receptive.same_prediction_figure": lambda: receptive.same_prediction_figure(
        [0, 1, 2], {"pooled": [1, 0.9, 0.8], "plain": [1, 0.6, 0.5]}, 60),
    "receptive.layer_change_figure": lambda: receptive.layer_change_figure(
        ["conv1", "head"], {"pooled": [0.5, 0.1], "plain": [0.5, 0.4]}),
    "receptive.pair_costs_figure": lambda: receptive.pair_costs_figure(
        {"pooled": [_cost("conv1", 224, 221184, False), _cost("logits", 1285, 1280, True)],
         "plain": [_cost("conv1", 224, 221184, False), _cost("logits", 81925, 81920, True)]}),
    "residual.gradient_figure": lambda: residual.gradient_figure(RESULT),
    "residual.loss_figure": lambda: residual.loss_figure(RESULT),
    "training.history_figure": lambda: training.history_figure(
        {"with": HISTORY, "without": HISTORY}, "accuracy", boundaries={"with": [1]}),
    "training.parameter_figure": lambda: training.parameter_figure(PHASES),
    "training.weight_change_figure": lambda: training.weight_change_figure(
        {"transfer": {"conv1": 0.01, "conv2": 0.2}}),
    "training.probability_figure": lambda: training.probability_figure(
        ["circle", "square"], [0.7, 0.3], title="Top-2 predictions"),
    "activations.hierarchy_figure": lambda: activations.hierarchy_figure(SimpleNamespace(
        layers=("conv1", "conv2", "conv3"), depths=(1, 2, 3), channels=(16, 32, 64),
        accuracy=np.array([0.4, 0.6, 0.9]), spread=np.array([0.05, 0.04, 0.02]),
        accuracy_equal=np.array([0.35, 0.55, 0.85]), equal_features=16, chance=0.2,
        n_images=300, n_test=60)),
    "matching.matches_figure": lambda: matching_figures.matches_figure(
        (POSITIVE[..., None] * [255, 128, 0]).astype(np.uint8),
        [SimpleNamespace(row=1, col=2, score=0.9, centre=(2, 3), on=0),
         SimpleNamespace(row=4, col=0, score=0.5, centre=(5, 1), on=None)], (3, 3)),
    "matching.response_figure": lambda: matching_figures.response_figure(
        SIGNED, title="NCC", marks=[(2, 3, "1", "#E69F00")], pick=(1, 1), colorbar_title="score"),
    "transfer.gain_by_size_figure": lambda: transfer.gain_by_size_figure(
        {"new_shapes": {8: [0.5, 0.6], 64: [0.4, 0.45]}, "textures": {8: [0.1, 0.2]}},
        {"new_shapes": "new shapes", "textures": "textures"}),
    "questions.poll_figure": lambda: questions.poll_figure(["3", "5", "7"], [4, 11, 2]),
    "questions.poll_figure revealed": lambda: questions.poll_figure(
        ["3", "5", "7"], [4, 11, 2], measured="5"),
    "questions.poll_figure missed": lambda: questions.poll_figure(
        ["much smaller", "about the same"], [2, 1], measured="much larger"),
    "questions.click_figure": lambda: questions.click_figure(
        (POSITIVE[..., None] * [255, 128, 0]).astype(np.uint8), click=(2, 3)),
    "questions.click_figure revealed": lambda: questions.click_figure(
        (POSITIVE[..., None] * [255, 128, 0]).astype(np.uint8), click=(2, 3), heat=POSITIVE),
}


@pytest.mark.parametrize("name", list(BUILDERS))
def test_every_builder_follows_the_template(name):
    assert_follows_template(BUILDERS[name]())


def test_the_check_catches_plotly_defaults():
    import plotly.graph_objects as go

    with pytest.raises(AssertionError, match="font not set"):
        assert_follows_template(go.Figure(go.Scatter(y=[1, 2])))
    with pytest.raises(AssertionError, match="colour bar"):
        assert_follows_template(theme.style(go.Figure(go.Heatmap(z=SIGNED, showscale=False))))
    with pytest.raises(AssertionError, match="symmetric"):
        assert_follows_template(theme.style(go.Figure(go.Heatmap(
            z=SIGNED, colorscale=theme.DIVERGING, zmin=-1, zmax=2))))
    with pytest.raises(AssertionError, match="share a colour"):
        assert_follows_template(theme.style(go.Figure(
            [go.Scatter(y=[1, 2], name=n, line={"color": "red"}) for n in "ab"])))


def test_every_builder_is_checked():
    """A new builder in cnnviz.figures must be added to BUILDERS above."""
    checked = {name.split()[0] for name in BUILDERS}
    for info in pkgutil.iter_modules(cnnviz.figures.__path__):
        module = importlib.import_module(f"cnnviz.figures.{info.name}")
        for attr, value in vars(module).items():
            builder = attr.endswith(("_figure", "_diagram")) or attr == "colour_legend"
            if (inspect.isfunction(value) and value.__module__ == module.__name__
                    and not attr.startswith("_") and builder):
                assert f"{info.name}.{attr}" in checked or attr == "model_diagram", attr


def test_maps_get_the_scale_their_values_need():
    signed = maps.map_figure(SIGNED)
    bar = next(t.marker for t in signed.data[1:] if t.marker.showscale)
    assert bar.colorscale == DIVERGING and bar.cmin == -bar.cmax == -np.abs(SIGNED).max()
    positive = maps.map_figure(POSITIVE)
    bar = next(t.marker for t in positive.data[1:] if t.marker.showscale)
    assert bar.colorscale != DIVERGING and (bar.cmin, bar.cmax) == (POSITIVE.min(),
                                                                    POSITIVE.max())
    photo = maps.map_figure((POSITIVE[..., None] * [255, 255, 255]).astype(np.uint8))
    assert not any(t.marker.showscale for t in photo.data if t.type == "scatter")


def test_signed_bars_use_the_ends_of_the_diverging_scale():
    fig = architecture.pointwise_figure(POINTWISE)
    outputs = fig.data[2]
    assert [c == theme.POSITIVE for c in outputs.marker.color] == list(POINTWISE.sums >= 0)
    red_end = colour.colormap_table(theme.DIVERGING)[-1].astype(int)
    assert red_end[0] > red_end[2]  # the top of the scale (positive) is red there too


def test_map_rows_share_one_tile_size_and_report_clicks():
    fig = BUILDERS["activations.map_rows_figure"]()
    picture = fig.data[0].z
    assert picture.shape[1] == 4 * 32 + 3 * 1  # 16×16 and 8×8 maps drawn 32 px wide
    assert [n.text for n in fig.layout.annotations] == ["conv1 — 16×16", "conv2 — 8×8"]
    assert list(fig.data[1].customdata) == [f"conv1:{i}" for i in range(5)] + [
        f"conv2:{i}" for i in range(3)]


def test_presenter_scale_enlarges_fonts_and_height():
    normal = BUILDERS["activations.statistics_figure"]()
    token = theme.SCALE.set(1.25)
    try:
        large = BUILDERS["activations.statistics_figure"]()
    finally:
        theme.SCALE.reset(token)
    assert large.layout.font.size == round(1.25 * normal.layout.font.size)
    assert large.layout.xaxis.tickfont.size > normal.layout.xaxis.tickfont.size
    assert large.layout.height == int(1.25 * normal.layout.height)
    assert_follows_template(large)


def test_lines_stay_distinct_beyond_the_palette():
    styles = {tuple(theme.line_style(i).values()) for i in range(32)}
    assert len(styles) == 32


def test_titles_wrap_to_the_width_they_get():
    text = "‖a(shifted) − a(original)‖ / ‖a(original)‖ per layer of the network"
    assert theme.wrap(text, span=1.0) == text
    lines = theme.wrap(text, span=0.4).split("<br>")
    assert len(lines) > 1 and " ".join(lines) == text
    assert max(map(len, lines)) <= theme.CONTENT_WIDTH * 0.4 / (0.6 * theme.TITLE_SIZE)


# ----------------------------------------------------------------- the one colour map


def test_colormap_tables():
    jet = colour.colormap_table("jet").astype(int)
    assert jet.shape == (256, 3)
    assert jet[0, 2] > jet[0, 0] and jet[-1, 0] > jet[-1, 2]  # blue -> red
    for name in ("viridis", "magma", "gray", "hot"):
        table = colour.colormap_table(name).astype(float)
        luminance = table @ [0.299, 0.587, 0.114]
        assert np.all(np.diff(luminance) >= -1.0), name  # dark to bright
    with pytest.raises(ImageError, match="colour map"):
        colour.colormap_table("rainbow-unicorn")


def test_colour_bars_show_the_colours_of_the_pixels():
    """The table is Plotly's scale: its ends are the scale's first and last colours."""
    from plotly.colors import get_colorscale, hex_to_rgb

    scale = get_colorscale(theme.SEQUENTIAL)
    table = colour.colormap_table(theme.SEQUENTIAL)
    assert tuple(table[0]) == hex_to_rgb(scale[0][1])
    assert tuple(table[-1]) == hex_to_rgb(scale[-1][1])


def test_colorize_respects_vmin_vmax():
    values = np.array([[0.0, 0.5]])
    free = colour.colorize(values, colormap="gray")
    fixed = colour.colorize(values, colormap="gray", vmin=0.0, vmax=1.0)
    assert free[0, 1, 0] == 255 and 120 < fixed[0, 1, 0] < 135
    stack = colour.colorize(np.zeros((3, 4, 5)))  # any shape; a constant map is the low end
    assert stack.shape == (3, 4, 5, 3) and stack.dtype == np.uint8


def test_tile_grid():
    rgb = colour.colorize(RNG.random((3, 4, 5)))
    tiled = maps.tile_grid(rgb, cols=2, pad=1)
    assert tiled.shape == (2 * 4 + 1, 2 * 5 + 1, 3)
    assert np.array_equal(tiled[5:9, 0:5], rgb[2])


def test_the_poll_shows_the_measured_answer_even_when_nobody_chose_it():
    got = questions.poll_figure(["3", "5"], [4, 11], measured="5")
    assert "(green)" in got.layout.title.text and list(got.data[0].x) == ["3", "5"]
    missed = questions.poll_figure(["3", "5"], [4, 11], measured="7")
    assert list(missed.data[0].x) == ["3", "5", "7"] and list(missed.data[0].y) == [4, 11, 0]
    assert missed.data[0].marker.color[-1] == theme.CATEGORICAL[2]
    assert "measured: 7, chosen by nobody" in missed.layout.title.text
    assert "green" not in missed.layout.title.text
