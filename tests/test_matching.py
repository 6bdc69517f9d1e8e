"""cnnviz.matching: image pairs, matches kept apart, scores per object, and sentences that
change when the numbers say the opposite."""

from __future__ import annotations

import numpy as np
import pytest

from cnnviz import conv, matching
from cnnviz.errors import ImageError


def _scene_case(seed=matching.SCENE_SEED, target="circle", decoy="square"):
    pair = matching.shape_scenes(target, decoy, seed)
    grey_cut, grey = conv.to_gray(pair.kernel_image), conv.to_gray(pair.search_image)
    k, top, left = matching.patch_around(pair.cut_mask, 64)
    kernel = grey_cut[top:top + k, left:left + k]
    ncc = conv.match_template(grey, kernel)
    return pair, grey_cut, grey, kernel, ncc


def test_scenes_cut_one_shape_and_hide_two_beside_another():
    pair = matching.shape_scenes("star", "cross", 7)
    assert pair.objects == ("star", "star", "cross") and pair.target == "star"
    assert pair.kernel_image.shape == pair.search_image.shape == (128, 128, 3)
    assert pair.masks.shape == (3, 128, 128) and pair.cut_mask.any()
    assert not pair.same and pair.kernel_image.dtype == np.uint8
    again = matching.shape_scenes.__wrapped__("star", "cross", 7)  # not the cached one
    np.testing.assert_array_equal(again.search_image, pair.search_image)


def test_the_default_seed_shows_what_its_comment_says():
    """Both circles match, the square is told apart, and the raw sum peaks on the square."""
    pair, grey_cut, grey, kernel, ncc = _scene_case()
    scores = matching.object_scores(ncc, kernel.shape, pair.masks)
    assert min(scores[:2]) >= matching.MATCH
    assert min(scores[:2]) - scores[2] >= matching.MARGIN
    g = conv.geometry(grey.shape, kernel.shape)
    best = matching.top_matches(ncc, 1, kernel.shape, masks=pair.masks)[0]
    assert "peaks at the square" in matching.raw_sentence(
        grey, conv.convolve(grey, kernel), g, best, pair.masks, pair.objects)


def test_shrinking_a_pair_keeps_its_masks_on_their_objects():
    pair = matching.shape_scenes()
    small = matching.shrink_pair(pair, 64)
    assert small.search_image.shape == (64, 64, 3) and small.masks.shape == (3, 64, 64)
    assert small.cut_mask.shape == (64, 64)
    for big, little in zip(pair.masks, small.masks):
        assert abs(big.mean() - little.mean()) < 0.01
    same = matching.shrink_pair(matching.same_image(pair.search_image, "x"), 64)
    assert same.same and same.masks is None


def test_the_stereo_pair_has_its_documented_size():
    pair = matching.stereo_photos()
    assert pair.kernel_image.shape[:2] == pair.search_image.shape[:2] == matching.STEREO_HW
    assert not np.array_equal(pair.kernel_image, pair.search_image)


def test_patch_around_an_object():
    mask = np.zeros((40, 50), bool)
    mask[10:20, 30:36] = True  # 10 rows, 6 columns
    assert matching.patch_around(mask, 64) == (14, 8, 26)  # 10 + 2 * 2, centred
    assert matching.patch_around(mask, 8) == (8, 11, 29)
    mask[:] = False
    mask[0:4, 46:50] = True  # in a corner: the patch stays inside
    size, top, left = matching.patch_around(mask, 64)
    assert top == 0 and left + size == 50
    with pytest.raises(ImageError):
        matching.patch_around(np.zeros((5, 5), bool), 3)


def test_non_maximum_suppression_keeps_one_match_per_peak():
    ncc = np.zeros((30, 30))
    ncc[10, 10], ncc[11, 11], ncc[10, 25] = 0.9, 0.85, 0.7  # two neighbours and a far peak
    found = matching.top_matches(ncc, 3, (8, 8))
    assert [(m.row, m.col, m.score) for m in found[:2]] == [(10, 10, 0.9), (10, 25, 0.7)]
    assert found[0].centre == (13, 13)  # centre of an 8x8 window at (10, 10)
    assert len(matching.top_matches(np.ones((2, 2)), 5, (3, 3))) == 1  # nothing left to find


def test_geometry_round_trip_between_output_pixels_and_image_places():
    for kwargs in ({}, {"stride": 2}, {"stride": 3, "padding": 2}, {"dilation": 2,
                                                                      "padding": "same"}):
        g = conv.geometry((40, 37), (5, 4), **kwargs)
        for r, c in [(0, 0), (g.out_hw[0] - 1, g.out_hw[1] - 1), (3, 2)]:
            assert g.nearest_output(*g.centre(r, c)) == (r, c), kwargs
    g = conv.geometry((40, 40), (3, 3), stride=2)
    assert g.centre(5, 10) == (11, 21) and g.nearest_output(11, 21) == (5, 10)
    assert g.nearest_output(-50, 500) == (0, g.out_hw[1] - 1)  # clamped to the map


def test_on_input_puts_each_output_at_its_window_centre():
    values = np.arange(12.0).reshape(3, 4)
    g = conv.geometry((5, 6), (3, 3))  # valid, stride 1: outputs centred on rows 1-3
    drawn = matching.on_input(values, g, fill=-1)
    np.testing.assert_array_equal(drawn[1:4, 1:5], values)
    assert (drawn[0] == -1).all() and (drawn[:, 0] == -1).all()
    g = conv.geometry((8, 8), (3, 3), stride=2, padding="same")
    drawn = matching.on_input(np.arange(16.0).reshape(4, 4), g)
    assert drawn[0, 0] == 0 and drawn[2, 2] == 5 and drawn[7, 7] == 15


def test_object_scores_are_the_best_window_centred_on_each_object():
    masks = np.zeros((2, 10, 10), bool)
    masks[0, 2:4, 2:4], masks[1, 7:9, 7:9] = True, True
    ncc = np.full((8, 8), 0.1)  # 3x3 windows, centred on rows/cols 1..8
    ncc[1, 1] = 0.9  # centred on (2, 2): object 0
    scores = matching.object_scores(ncc, (3, 3), masks)
    assert scores[0] == pytest.approx(0.9) and scores[1] == pytest.approx(0.1)
    masks[1] = False
    masks[1, 9, 9] = True  # no whole window is centred there
    assert np.isnan(matching.object_scores(ncc, (3, 3), masks)[1])


# ------------------------------------------------------------ sentences flip with the numbers
def test_scene_sentence_says_found_weak_or_not_told_apart():
    pair, grey_cut, grey, *_ = _scene_case()
    found = matching.scene_sentence(pair, np.array([0.8, 0.7, 0.2]), grey_cut, grey)
    assert found.startswith("The two circles") and "finds the circle's pattern" in found
    assert "(bottom left, top left) score 0.80 and 0.70, the square (centre) 0.20" in found
    ranked = matching.scene_sentence(pair, np.array([0.7, 0.8, 0.2]), grey_cut, grey)
    assert "(top left, bottom left) score 0.80 and 0.70" in ranked  # best first
    close = matching.scene_sentence(pair, np.array([0.8, 0.7, 0.6]), grey_cut, grey)
    assert "the square scores within 0.2 of a circle" in close and "finds" not in close
    weak = matching.scene_sentence(pair, np.array([0.8, 0.3, -0.4]), grey_cut, grey)
    assert "scores below 0.5:" in weak and "finds" not in weak
    decoy_wins = matching.scene_sentence(pair, np.array([0.3, 0.4, 0.6]), grey_cut, grey)
    assert "score below 0.5 and the square scores highest" in decoy_wins


def test_a_weak_score_is_explained_by_the_contrast_measured():
    pair, grey_cut, grey, *_ = _scene_case()
    cut = matching.contrast(grey_cut, pair.cut_mask)
    assert cut < 0  # the default cut circle is darker than its surroundings
    same_sign = [j for j in (0, 1) if np.sign(matching.contrast(grey, pair.masks[j]))
                 == np.sign(cut)]
    assert same_sign == [0, 1]
    weak = matching.scene_sentence(pair, np.array([0.3, 0.8, 0.0]), grey_cut, grey)
    assert "a different size, rotation or colour" in weak  # same contrast: not reversed
    inverted = matching.scene_sentence(pair, np.array([0.3, 0.8, 0.0]), 1 - grey_cut, grey)
    assert "it is darker than its surroundings, where the cut circle is lighter" in inverted


def test_photo_sentence_says_itself_clear_ambiguous_or_not_found():
    image = np.zeros((10, 10, 3), np.uint8)
    same, other = matching.same_image(image, "x"), matching.stereo_photos()

    def at(score, second):
        return [matching.Match(5, 3, score, (6, 4)), matching.Match(1, 1, second, (2, 2))]

    assert matching.photo_sentence(same, at(1.0, 0.2), (5, 3)).startswith("It finds itself")
    clear = matching.photo_sentence(other, at(0.8, 0.3), (5, 10))
    assert "7 columns left of where it was cut" in clear and "one clear match" in clear
    ambiguous = matching.photo_sentence(other, at(0.8, 0.7), (5, 10))
    assert "ambiguous" in ambiguous and "clear" not in ambiguous
    missing = matching.photo_sentence(other, at(0.4, 0.3), (5, 10))
    assert "not found" in missing and "clear" not in missing
    moved = matching.photo_sentence(same, at(1.0, 0.2), (4, 3))
    assert "It finds itself" not in moved and "1 row down" in moved


def test_raw_sentence_says_same_place_or_brighter_place():
    x = np.full((20, 20), 0.2)
    x[2:5, 2:5] = 0.9  # a bright blob
    g = conv.geometry(x.shape, (3, 3))
    response = conv.convolve(x, np.ones((3, 3)))
    far = matching.Match(14, 14, 0.9, (15, 15))
    brighter = matching.raw_sentence(x, response, g, far)
    assert "peaks at row 3, col 3 instead" in brighter and "0.90 under its window" in brighter
    near = matching.Match(2, 2, 0.9, (3, 3))
    assert matching.raw_sentence(x, response, g, near).startswith("The raw weighted sum "
                                                                  "peaks there too")
    masks = np.zeros((2, 20, 20), bool)
    masks[0, 2:5, 2:5], masks[1, 14:17, 14:17] = True, True
    on_other = matching.Match(14, 14, 0.9, (15, 15), on=1)
    assert "peaks at the blob (top left) instead" in matching.raw_sentence(
        x, response, g, on_other, masks, ("blob", "dot"))
    on_same = matching.Match(2, 2, 0.9, (3, 3), on=0)
    assert "peaks there too (the blob (top left))" in matching.raw_sentence(
        x, response, g, on_same, masks, ("blob", "dot"))


def test_kernel_sentence_says_whether_flat_regions_give_zero():
    x = np.random.default_rng(0).random((20, 20))
    edge = conv.classic_kernel("Sobel x")
    assert "sum to 0, so flat regions give 0" in matching.kernel_sentence(
        edge, conv.convolve(x, edge))
    blur = conv.classic_kernel("box blur", size=3)
    said = matching.kernel_sentence(blur, conv.convolve(x, blur))
    assert "sum to 1, so a flat region of brightness b gives 1·b" in said


def test_marks_on_the_edge_of_a_map_are_drawn_whole():
    """A peak in the first column: the axes leave room around the map for its mark."""
    from cnnviz.figures import matching as figures

    values = np.zeros((20, 30))
    values[19, 0] = 1.0
    fig = figures.response_figure(values, marks=[(19, 0, "", "gold"), (0, 29, "1", "red")])
    x0, x1 = fig.layout.xaxis.range
    y_bottom, y_top = fig.layout.yaxis.range
    assert x0 < -0.5 - 1 and x1 > 29.5 + 1 and y_bottom > 19.5 + 1 and y_top < -0.5 - 1
    marks = [trace for trace in fig.data if trace.type == "scatter" and trace.x[0] is not None]
    assert [(trace.x[0], trace.y[0]) for trace in marks] == [(0, 19), (29, 0)]
    assert all(trace.cliponaxis is False for trace in marks)
    found = [matching.Match(0, 0, 0.9, (2, 2)), matching.Match(10, 20, -0.3, (12, 22))]
    labels = [note.text for note in figures.matches_figure(
        np.zeros((20, 30, 3), np.uint8), found, (5, 5)).layout.annotations]
    assert labels == ["<b>2</b> · −0.30", "<b>1</b> · 0.90"]  # the best drawn last, on top
