"""Each outcome sentence of the transfer page follows its numbers: fed the opposite
result, it says the opposite (and why that can happen)."""

from __future__ import annotations

from types import SimpleNamespace

from cnnviz.training import transfer_claims as claims


def test_gain_clear_mixed_none_and_reversed():
    assert claims.gain_sentence([0.5, 0.4]).startswith(
        "Transfer beat scratch by +45 points (mean of 2 seeds, +40 to +50)")
    assert "every seed" in claims.gain_sentence([0.5, 0.4])
    assert "not by 10 points on every seed" in claims.gain_sentence([0.5, 0.05])
    assert claims.gain_sentence([0.02]).startswith("Transfer and scratch are within 10 points")
    reversed_ = claims.gain_sentence([-0.3, -0.2])
    assert reversed_.startswith("Scratch beat transfer") and "Possible causes" in reversed_
    assert claims.gain_sentence([]) == ""
    assert claims.gain_sentence([-0.003, 0.0]).startswith(
        "Transfer and scratch are within 10 points (+0 points (mean of 2 seeds, +0 to +0))")


def test_similar_versus_dissimilar_both_ways():
    firm = claims.similarity_sentence([0.55, 0.5], [0.2, 0.25])
    assert firm.startswith("Transfer helped more when the new task looks like the old one")
    assert "overlap" not in firm
    assert "overlap" in claims.similarity_sentence([0.6, 0.1], [0.2, 0.15])
    opposite = claims.similarity_sentence([0.1, 0.1], [0.4, 0.5])
    assert "MORE on the dissimilar task" in opposite and "against the textbook" in opposite
    assert claims.similarity_sentence([0.3], [0.28]).startswith("Transfer helped about as much")


def test_similarity_is_not_claimed_where_scratch_leaves_no_room_for_a_gain():
    # the measured textures case: scratch near 100 %, so the dissimilar gain cannot pass 10
    easy = claims.similarity_sentence([0.55, 0.5], [0.0, -0.02], [0.99, 0.98])
    assert easy.startswith("These runs cannot tell") and "scratch alone scored 98%" in easy
    hard = claims.similarity_sentence([0.55, 0.5], [0.0, -0.02], [0.6, 0.5])
    assert hard.startswith("Transfer helped more when the new task looks like the old one")


def test_phase3_drop_both_ways():
    assert claims.drop_sentence(0.37, 1e-2).startswith("When phase 3 started, validation "
                                                      "accuracy fell by 37 points")
    assert "did not damage" in claims.drop_sentence(0.0, 1e-4)
    assert "did not damage" in claims.drop_sentence(-0.1, 1e-4)  # it rose: no drop
    assert claims.drop_sentence(float("nan"), 1e-4) == ""


def test_batchnorm_both_ways():
    assert "unchanged" in claims.batchnorm_sentence(0.0)
    assert "moved by up to 0.25" in claims.batchnorm_sentence(0.25)


def _result(target, n, seed, transfer, scratch):
    run = SimpleNamespace
    return SimpleNamespace(
        settings=SimpleNamespace(target=target, n_train=n, seed=seed), complete=True,
        transfer=run(final_val_accuracy=transfer),
        scratch=run(final_val_accuracy=scratch) if scratch is not None else None)


def test_gains_by_size_and_catch_up_both_ways():
    results = [_result("new_shapes", 64, 0, 0.95, 0.9), _result("new_shapes", 8, 0, 0.9, 0.4),
               _result("new_shapes", 8, 1, 0.9, 0.5), _result("new_shapes", 8, 1, 0.9, 0.5),
               _result("textures", 8, 0, 0.7, None)]
    gains = claims.gains_by_size(results)
    assert list(gains) == ["new_shapes"]
    assert list(gains["new_shapes"]) == [8, 64]  # sorted by size, each seed once
    assert [round(g, 2) for g in gains["new_shapes"][8]] == [0.5, 0.4]
    assert claims.catch_up_sentence(gains["new_shapes"]).startswith(
        "Scratch caught up (mean gain within 10 points) from 64 images per class")
    assert claims.catch_up_sentence({8: [0.5], 64: [0.3]}).startswith("At every size measured "
                                                                     "transfer kept")
    assert claims.catch_up_sentence({8: [0.05], 64: [0.0]}).startswith(
        "At every size measured the mean gain stayed within")
    # the measured textures case: within 10 points at 8, above at 64: no catch-up claimed
    grew = claims.catch_up_sentence({8: [0.21, -0.03], 64: [0.24, 0.22]})
    assert grew.startswith("The gain did not shrink") and "against the textbook" in grew
    assert claims.catch_up_sentence({8: [0.3], 16: [0.0], 64: [0.4]}).startswith(
        "The gain did not shrink")
    assert claims.catch_up_sentence({8: [0.5]}) == ""
