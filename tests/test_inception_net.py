"""The trained inception network: its committed weights, its branches' fields and scales."""

from __future__ import annotations

import pytest

from cnnviz import archdemo
from cnnviz.models import inception

FIELDS = {  # the branches' theoretical fields, by hand: r + (k - 1) * jump
    "inception_7": (10, 4, [10, 18, 26, 18]),  # maxpool_6: 10 px, 4 px apart
    "inception_10": (30, 8, [30, 46, 62, 46]),  # maxpool_9: 30 px, 8 px apart
}


@pytest.fixture(scope="module")
def net():
    if not inception.WEIGHTS_PATH.is_file():
        pytest.skip("the inception network's trained weights are not there")
    return inception.load_shapes_inception()


@pytest.fixture(scope="module")
def images():
    from cnnviz.data import SOURCE_CLASSES, make_shapes

    return make_shapes(4, seed=inception.CHECK_SEED, classes=SOURCE_CLASSES).images


def test_committed_weights_give_the_recorded_accuracy(net):
    info = inception.trained_info()
    assert info["model"] == inception.NAME and info["test_accuracy"] >= 0.9
    assert info["settings"]["params"] == net.count_params()
    assert inception.check_accuracy(net) == pytest.approx(info["check_accuracy"], abs=1e-9)
    assert inception.load_shapes_inception() is net  # loaded once per process


@pytest.mark.parametrize("block", inception.BLOCKS)
def test_branch_fields_come_from_the_trained_layers(net, images, block):
    trained = archdemo.trained_block(net, images[0], block)
    field, jump, sides = FIELDS[block]
    assert (trained.input_field, trained.input_jump) == (field, jump)
    assert [b.field for b in trained.branches.values()] == sides
    assert list(archdemo.branch_receptive_fields(field, jump).values()) == sides
    assert trained.concat.shape[-1] == sum(b.maps.shape[-1] for b in trained.branches.values())
    for branch in trained.branches.values():  # the measured field lies inside the theoretical
        assert 0 < branch.side(0.5) <= branch.side(0.9) <= branch.field + 1


@pytest.mark.parametrize("block", inception.BLOCKS)
def test_measured_scale_grows_with_the_window(net, images, block):
    sides = [[archdemo.trained_block(net, image, block).branches[b].side(0.5)
              for b in archdemo.BRANCHES[:3]] for image in images[:2]]
    for one, three, five in sides:
        assert one <= three <= five, sides


def test_scale_sentence_follows_the_numbers():
    one, three, five, pool = archdemo.BRANCHES
    grows = archdemo.scale_sentence({one: 7, three: 11, five: 15, pool: 11}, 0.5)
    assert "grows from 1x1 to 5x5" in grows and "does not hold" not in grows
    wrong = archdemo.scale_sentence({one: 15, three: 11, five: 7, pool: 11}, 0.5)
    assert "does not hold" in wrong and "grows" not in wrong
    off = archdemo.scale_sentence({one: 7, three: 11, five: 0, pool: 11}, 0.9)
    assert "switched off" in off and "90%" in off and "grows" not in off


def test_widest_branch_breaks_ties_in_branch_order():
    one, three, five, pool = archdemo.BRANCHES
    assert archdemo.widest_branch({one: 7, three: 11, five: 15, pool: 11}) == five
    assert archdemo.widest_branch({one: 7, three: 15, five: 15, pool: 11}) == three
