"""cnnviz.evaluate: the trust measures on maps and models with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from cnnviz import cam, evaluate

keras = pytest.importorskip("keras")


def _masks():
    masks = np.zeros((3, 8, 8), bool)
    masks[:, 2:5, 2:5] = True
    return masks


def test_pointing_and_energy_on_known_maps():
    masks = _masks()
    on = masks.astype(np.float32)
    off = (~masks).astype(np.float32)
    np.testing.assert_array_equal(evaluate.pointing_game(on, masks), True)
    np.testing.assert_array_equal(evaluate.pointing_game(off, masks), False)
    np.testing.assert_allclose(evaluate.energy_inside(on, masks), 1.0)
    np.testing.assert_allclose(evaluate.energy_inside(off, masks), 0.0)
    half = on + off * (9 / 55)  # as much mass outside as inside
    np.testing.assert_allclose(evaluate.energy_inside(half, masks), 0.5, rtol=1e-5)
    zeros = np.zeros_like(on)  # no peak, no mass: a miss, not NaN
    assert not evaluate.pointing_game(zeros, masks).any()
    np.testing.assert_array_equal(evaluate.energy_inside(zeros, masks), 0.0)


def test_low_resolution_maps_are_upsampled_to_the_mask():
    masks = np.zeros((1, 16, 16), bool)
    masks[0, 8:, 8:] = True
    coarse = np.array([[[0, 0], [0, 1]]], np.float32)
    assert evaluate.pointing_game(coarse, masks)[0]
    assert evaluate.energy_inside(coarse, masks)[0] > 0.7  # bilinear ramps spill a little


def test_random_coarse_maps_point_at_chance():
    """The peak of a random 16x16 map lands on the object as often as its area share."""
    from cnnviz.data import make_shapes

    shapes = make_shapes(300, seed=5)
    hits = evaluate.pointing_game(evaluate.random_maps((300, 16, 16), seed=3), shapes.masks)
    assert abs(hits.mean() - shapes.masks.mean()) < 0.05


def test_spearman():
    a = np.arange(16.0).reshape(4, 4)
    assert evaluate.spearman(a, a**3) == pytest.approx(1.0)
    assert evaluate.spearman(a, -a) == pytest.approx(-1.0)
    assert np.isnan(evaluate.spearman(a, np.zeros_like(a)))


@pytest.fixture(scope="module")
def shapes():
    from cnnviz.data import make_shapes

    return make_shapes(10, seed=321)


def test_randomisation_runs_on_a_clone_and_destroys_the_map(shapes_model, shapes):
    before = [w.copy() for w in shapes_model.get_weights()]
    result = evaluate.randomization_check(shapes_model, shapes.images[:4],
                                          class_index=shapes.labels[:4])
    for a, b in zip(before, shapes_model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)  # the shared model is untouched
    assert result.steps[0] == "trained" and result.steps[1] == "down to logits"
    assert result.maps.shape == (len(result.steps), 4, 16, 16)
    np.testing.assert_allclose(result.correlations[0], 1.0)
    # with every layer re-initialised the map no longer resembles the trained one
    final = np.nan_to_num(result.correlations[-1], nan=0.0)
    assert final.mean() < 0.5
    # and the same check with the same seed gives the same numbers
    again = evaluate.randomization_check(shapes_model, shapes.images[:4],
                                         class_index=shapes.labels[:4])
    np.testing.assert_allclose(again.correlations, result.correlations, atol=1e-5)


def test_localisation_scores_beat_chance_and_the_random_map(shapes_model, shapes):
    scores = evaluate.localisation_scores(shapes_model, shapes,
                                          ("gradcam", "saliency", evaluate.RANDOM),
                                          curve_steps=8)
    assert [s.method for s in scores] == ["gradcam", "saliency", "random"]
    gradcam, saliency, random = scores
    for s in (gradcam, saliency):
        assert s.n == len(shapes) and 0 < s.chance < 0.3
        assert s.energy > 2 * s.chance
        assert s.insertion_auc > random.insertion_auc
    assert gradcam.pointing >= 0.8 and gradcam.deletion_auc < random.deletion_auc
    # a random map scores about chance (the object's area share)
    assert abs(random.energy - random.chance) < 0.05


def test_deletion_and_insertion_beat_a_random_map(shapes_model, shapes):
    maps = cam.gradcam(shapes_model, shapes.images, class_index=shapes.labels)
    real = evaluate.deletion_insertion(shapes_model, shapes.images, maps,
                                       class_index=shapes.labels, steps=10)
    rand = evaluate.deletion_insertion(shapes_model, shapes.images,
                                       evaluate.random_maps(maps.shape, seed=1),
                                       class_index=shapes.labels, steps=10)
    assert real.deletion.shape == (len(shapes), 11)
    # both curves start and end at the same two images: original and blank
    np.testing.assert_allclose(real.deletion[:, 0], rand.deletion[:, 0], atol=1e-6)
    np.testing.assert_allclose(real.insertion[:, -1], real.deletion[:, 0], atol=1e-6)
    assert real.insertion_auc.mean() > rand.insertion_auc.mean() + 0.2
    assert real.deletion_auc.mean() < rand.deletion_auc.mean()


# ------------------------------------------------------------------ verdict sentences
def _randomised(last_rho: float) -> evaluate.RandomizationResult:
    return evaluate.RandomizationResult(["trained", "down to a", "down to b"],
                                        np.zeros((3, 1, 2, 2)),
                                        np.array([[1.0], [0.7], [last_rho]]), np.array([0]))


def test_randomization_sentence_follows_the_last_correlation():
    passed = evaluate.randomization_sentence(_randomised(0.1), "Grad-CAM")
    assert "0.10 (under 0.5)" in passed and "depends on what the network learned" in passed
    failed = evaluate.randomization_sentence(_randomised(0.9), "Grad-CAM")
    assert "still 0.90 (at least 0.5)" in failed and "barely depends" in failed
    flat = evaluate.randomization_sentence(_randomised(float("nan")), "Grad-CAM")
    assert "is flat" in flat


def test_curves_sentence_compares_with_the_random_map():
    both = evaluate.curves_sentence("Grad-CAM", 0.1, 0.8, 0.5, 0.5)
    assert "faithful on this image: its top pixels" in both
    assert "deletion curve only" in evaluate.curves_sentence("Grad-CAM", 0.1, 0.5, 0.5, 0.5)
    assert "insertion curve only" in evaluate.curves_sentence("Grad-CAM", 0.5, 0.8, 0.5, 0.5)
    neither = evaluate.curves_sentence("Grad-CAM", 0.48, 0.52, 0.5, 0.5)  # within the margin
    assert "no better than a random map" in neither and "faithful" not in neither


def _scored(method, pointing, chance=0.2):
    return evaluate.LocalisationScore(method, pointing, 0.5, chance, 60, 0.1)


def test_localisation_sentence_names_methods_under_twice_chance():
    titles = {"gradcam": "Grad-CAM", "saliency": "Saliency"}
    good = evaluate.localisation_sentence(
        [_scored("gradcam", 0.9), _scored("saliency", 0.5), _scored(evaluate.RANDOM, 0.2)],
        titles)
    assert good.startswith("On 60 shapes the map's peak is on the object for Grad-CAM 90%")
    assert "down to 50% for Saliency" in good and "every method finds the object" in good
    weak = evaluate.localisation_sentence([_scored("gradcam", 0.9), _scored("saliency", 0.3)],
                                          titles)
    assert "under 2× chance, no real help in finding the object: Saliency" in weak
