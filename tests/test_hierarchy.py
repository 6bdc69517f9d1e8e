"""cnnviz.hierarchy: a linear probe per layer, and the sentences it justifies."""

from __future__ import annotations

import numpy as np
import pytest

from cnnviz import hierarchy


def _hierarchy(accuracy, equal=None, spread=0.02):
    accuracy = np.asarray(accuracy, float)
    n = len(accuracy)
    return hierarchy.Hierarchy(
        layers=tuple(f"l{i}" for i in range(n)), depths=tuple(range(n)),
        channels=(16,) * n, accuracy=accuracy, spread=np.full(n, spread),
        accuracy_equal=np.asarray(accuracy if equal is None else equal, float),
        equal_features=16, chance=0.2, n_images=300, n_test=100, splits=5, seed=0)


def test_the_ridge_probe_reads_separable_classes_and_not_noise():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 40)
    separable = np.eye(3)[labels] * 5 + rng.normal(0, 0.3, (120, 3))
    noise = rng.normal(0, 1, (120, 8))
    (train, test), = hierarchy._splits(120, labels, 1, 0, 1 / 3)
    assert np.bincount(labels[test]).tolist() == [13, 13, 13]  # stratified
    assert hierarchy.ridge_accuracy(separable, labels, train, test) == 1.0
    assert hierarchy.ridge_accuracy(noise, labels, train, test) < 0.6
    assert hierarchy.ridge_accuracy(separable, labels, train, test, components=1) < 1.0


def test_the_sentences_follow_the_numbers():
    headline, details = hierarchy.describe(_hierarchy([0.3, 0.6, 0.95]))
    assert headline == "Deeper layers separate the classes better."
    assert "from l0 at 30% and from l2 at 95%" in details and "still rises" in details
    flat = hierarchy.describe(_hierarchy([0.5, 0.55, 0.6]))
    assert flat[0].startswith("This run does not show") and "less than the 15%" in flat[1]
    channels = hierarchy.describe(_hierarchy([0.3, 0.9], equal=[0.3, 0.4]))[1]
    assert "much of it comes from the extra channels" in channels
    best = hierarchy.describe(_hierarchy([0.3, 0.97, 0.9]))[1]
    assert "The best is l1 (97%), not the deepest." in best
    assert hierarchy.rises(_hierarchy([0.3, 0.45])) and not hierarchy.rises(_hierarchy([0.3, 0.44]))


@pytest.mark.slow  # the built-in model on 100 shapes: ~3 s
def test_the_trained_model_separates_shapes_better_with_depth():
    pytest.importorskip("keras")
    from cnnviz import models, probe
    from cnnviz.models import builtin

    if not builtin.WEIGHTS_PATH.is_file():
        pytest.skip("the built-in model's trained weights are not there")
    model = models.load_model("shapes_cnn")
    names = [i.name for i in probe.feature_layers(model, kinds=("conv",))]
    x, labels, _ = hierarchy.probe_images("shapes_cnn", 100, seed=7)
    h = hierarchy.measure(model, x, labels, names, splits=3)
    assert h.layers == tuple(names) and h.n_test == 35
    assert hierarchy.rises(h) and h.best in names[-2:]
    again = hierarchy.measure(model, x, labels, names, splits=3)
    np.testing.assert_array_equal(h.accuracy, again.accuracy)  # deterministic
