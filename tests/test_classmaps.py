"""cnnviz.classmaps: several classes on one scale, the pointing game per class on scenes,
and every sentence it writes, fed results where it holds and where the opposite holds."""

from __future__ import annotations

import numpy as np
import pytest

from cnnviz import classmaps, evaluate
from cnnviz.classmaps import NEAR_EMPTY, ScenePointing

SIZE = 8


def _colour_model():
    """conv channel 0 reads red, channel 1 green; logit0 = mean(R), logit1 = mean(G),
    logit2 = -mean(R) - mean(G): Grad-CAM of class 0 is R, of class 1 G, of class 2 empty."""
    keras = pytest.importorskip("keras")
    inputs = keras.Input((SIZE, SIZE, 3))
    conv = keras.layers.Conv2D(2, 1, use_bias=False, name="conv")
    dense = keras.layers.Dense(3, use_bias=False, name="logits")
    model = keras.Model(inputs, dense(keras.layers.GlobalAveragePooling2D()(conv(inputs))))
    kernel = np.zeros((1, 1, 3, 2), np.float32)
    kernel[0, 0, 0, 0] = kernel[0, 0, 1, 1] = 1.0
    conv.set_weights([kernel])
    dense.set_weights([np.array([[1.0, 0.0, -1.0], [0.0, 1.0, -1.0]], np.float32)])
    return model


def _two_squares(green: float = 0.5):
    """A red square top left, a green one (of brightness ``green``) bottom right."""
    image = np.zeros((SIZE, SIZE, 3), np.float32)
    masks = np.zeros((2, SIZE, SIZE), bool)
    masks[0, :3, :3] = masks[1, 5:, 5:] = True
    image[masks[0], 0] = 1.0
    image[masks[1], 1] = green
    return image, masks


def test_classes_on_one_scale_keep_a_weak_class_weak():
    model = _colour_model()
    image, masks = _two_squares(green=0.5)
    comparison = classmaps.compare_classes(model, image, (0, 1, 2), layer="conv")
    z = SIZE * SIZE  # Grad-CAM's mean gradient is the dense weight / positions
    np.testing.assert_allclose(comparison.peaks, [1 / z, 0.5 / z, 0.0], rtol=1e-5)
    assert comparison.scale == pytest.approx(1 / z)
    np.testing.assert_allclose(comparison.shared.max(axis=(1, 2)), [1.0, 0.5, 0.0], rtol=1e-5)
    assert comparison.top_class == 0 and comparison.index(1) == 1
    # each class's map peaks on its own square
    assert [classmaps.peak_object(m, masks) for m in comparison.relu] == [0, 1, -1]
    assert [comparison.status(i).kind for i in range(3)] == ["", "", "empty"]


def test_a_map_far_below_the_strongest_is_near_empty_not_stretched():
    model = _colour_model()
    image, _ = _two_squares(green=NEAR_EMPTY / 2)
    comparison = classmaps.compare_classes(model, image, (0, 1), layer="conv")
    assert comparison.status(1).kind == "near-empty"
    assert "strongest" in comparison.status(1).reason
    assert comparison.shared[1].max() < NEAR_EMPTY  # drawn faint on the shared scale
    image, _ = _two_squares(green=NEAR_EMPTY * 2)  # the opposite: weak but shown
    comparison = classmaps.compare_classes(model, image, (0, 1), layer="conv")
    assert not comparison.status(1)


def test_map_status_rules():
    assert classmaps.map_status(0.0, 1.0).kind == "empty"
    assert classmaps.map_status(-1.0, 1.0).kind == "empty"
    against = classmaps.map_status(0.01, 1.0)  # almost all of the map is negative
    assert against.kind == "near-empty" and "against" in against.reason
    assert not classmaps.map_status(0.5, 1.0)
    assert classmaps.map_status(0.5, 0.5, strongest=20.0).kind == "near-empty"
    assert not classmaps.map_status(0.5, 0.5, strongest=5.0)


def test_compared_classes():
    probs = np.array([0.1, 0.6, 0.05, 0.2, 0.05])
    assert classmaps.compared_classes(probs) == (1, 3, 0)  # the top three
    assert classmaps.compared_classes(probs, chosen=4) == (1, 3, 0, 4)
    # a scene: its objects' classes, then the predicted class if it is not one of them
    assert classmaps.compared_classes(probs, objects=[2, 4]) == (2, 4, 1)
    assert classmaps.compared_classes(probs, objects=[1, 4], chosen=4) == (1, 4)


def test_where_it_points():
    objects = ("square", "star")
    assert classmaps.where_it_points("square", 0, objects) == ("on the square", True)
    assert classmaps.where_it_points("square", 1, objects) == (
        "on the star, not the square", False)
    assert classmaps.where_it_points("star", -1, objects) == (
        "on the background, not the star", False)
    assert classmaps.where_it_points("circle", 1, objects)[1] is False


def test_scene_sentence_follows_the_maps():
    objects = ("circle", "square")
    right = classmaps.scene_sentence(objects, {"circle": 0, "square": 1}, "block3_conv2")
    assert right.startswith("Each class's map peaks on its own object at block3_conv2")
    wrong = classmaps.scene_sentence(objects, {"circle": 0, "square": 0}, "block3_conv2")
    assert wrong.startswith("The map for square peaks on the circle, not on the square")
    assert "tells" not in wrong
    blank = classmaps.scene_sentence(objects, {"circle": 0, "square": -1}, "block2_conv2",
                                     empty=["square"])
    assert blank.startswith("The map for square is empty at block2_conv2")
    three = classmaps.scene_sentence(("circle", "star", "cross"),
                                     {"circle": 0, "star": 1, "cross": 2}, "b3")
    assert "tells the circle, the star and the cross apart" in three
    absent = classmaps.absent_sentence("square", 0.99, 0, objects)
    assert absent.startswith("There is no square in the image, yet p(square) = 99%: its map "
                             "peaks on the circle")


def test_single_object_sentence_follows_the_maps():
    assert classmaps.single_object_sentence("circle", [True, True]).startswith(
        "Every compared map peaks on the circle")
    assert classmaps.single_object_sentence("circle", [True, False]).startswith(
        "1 of the 2 compared maps peaks off the circle: it finds")


def _score(own, other, chance=0.1, per_class=None):
    return ScenePointing("gradcam", own, other, chance, per_class or {"circle": (own, 50)},
                         100, 0.1)


def test_pointing_sentence_states_the_verdict_and_its_rule():
    good = classmaps.pointing_sentence(_score(0.9, 0.05), "Grad-CAM")
    assert "so it tells the objects apart" in good and "Under" not in good
    assert classmaps.discriminates(_score(0.9, 0.05))
    blind = classmaps.pointing_sentence(_score(0.4, 0.35), "Saliency")
    assert "does not reliably tell the objects apart" in blind and "2×" in blind
    at_chance = _score(0.15, 0.0, chance=0.1)  # never on the other object, but at chance
    assert not classmaps.discriminates(at_chance)
    weak = classmaps.pointing_sentence(
        _score(0.8, 0.1, per_class={"circle": (0.95, 40), "square": (0.45, 40)}), "Grad-CAM")
    assert "Under 50% on its own object: square (45%)" in weak and "circle (" not in weak


def test_layers_sentence_and_words():
    sentence = classmaps.layers_sentence({"early": 0.9, "mid": 0.6, "deep": 0.1},
                                         "circle", "square")
    assert "differ most at deep (ρ = 0.10, class-specific)" in sentence
    assert "most alike at early (ρ = 0.90, nearly the same whatever the class)" in sentence
    flipped = classmaps.layers_sentence({"early": 0.1, "deep": 0.9}, "circle", "square")
    assert "differ most at early" in flipped and "most alike at deep" in flipped
    assert classmaps.specificity_words(0.6) == "partly class-specific"
    assert classmaps.specificity_words(float("nan")) == "one map is flat"
    assert "flat at every layer" in classmaps.layers_sentence({"a": float("nan")}, "c", "s")


def test_make_scenes_is_reproducible_with_distinct_classes():
    a = classmaps.make_scenes(6, objects=3, seed=4)
    b = classmaps.make_scenes(6, objects=3, seed=4)
    assert a.images.shape == (6, 64, 64, 3) and a.masks.shape == (6, 3, 64, 64)
    np.testing.assert_array_equal(a.images, b.images)
    assert all(len(set(row)) == 3 for row in a.labels)
    assert not (a.masks.sum(axis=1) > 1).any()  # objects never overlap
    assert not np.array_equal(a.labels, classmaps.make_scenes(6, objects=3, seed=5).labels)


def test_scene_pointing_per_class_on_known_scenes():
    model = _colour_model()
    image, masks = _two_squares(green=0.8)
    swapped = image[::-1, ::-1].copy()  # the green square top left, the red bottom right
    scenes = classmaps.Scenes(np.stack([image, swapped]), np.array([[0, 1], [1, 0]]),
                              np.stack([masks, masks[::-1, ::-1, ::-1]]),
                              ("red", "green", "none"), seed=0)
    gradcam, random = classmaps.scene_pointing(model, scenes, ["gradcam", evaluate.RANDOM],
                                               layer="conv")
    assert gradcam.own == 1.0 and gradcam.other == 0.0 and gradcam.maps == 4
    assert gradcam.per_class == {"red": (1.0, 2), "green": (1.0, 2)}
    assert gradcam.chance == pytest.approx(9 / 64)
    assert classmaps.discriminates(gradcam)
    assert random.method == evaluate.RANDOM and random.own <= 1.0
