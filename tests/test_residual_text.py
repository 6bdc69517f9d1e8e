"""Every conclusion sentence of the residual demo follows the measured numbers."""

from __future__ import annotations

import numpy as np

from cnnviz import residual_text as T


def _result(plain_signal, residual_signal, plain_loss, residual_loss, *, activation="relu",
            batchnorm=True):
    settings = {"depth": 5, "steps": 10, "activation": activation, "batchnorm": batchnorm,
                "width": 8, "seed": 0, "size": 16, "classes": 5, "learning_rate": 0.003,
                "batch": 64, "train_images": 128}

    def net(signal, loss):
        signal = list(np.geomspace(signal, 1.0, 5))
        return {"init": signal, "signal": signal, "trained": signal,
                "loss": list(np.linspace(*loss, 10)), "moved": [0.1] * 5}

    return {"settings": settings, "plain": net(plain_signal, plain_loss),
            "residual": net(residual_signal, residual_loss), "seconds": 1.0}


def test_textbook_run():
    # plain signal explodes, residual stays; residual trains, plain stalls
    text = T.conclusions(_result(80.0, 2.0, (1.6, 1.5), (1.6, 0.01)))
    assert text[0].startswith("Plain: the backward signal grows more than 10x")
    assert text[1].startswith("Residual: the backward signal stays within 10x")
    assert "ReLU's slope" in text[2] and "closer to 1" in text[2]
    assert "plain net stalls" in text[3] and "residual net trains" in text[3]
    assert text[3].endswith("the residual net is ahead.")


def test_opposite_run_gets_opposite_sentences():
    text = T.conclusions(_result(1e-3, 5e4, (1.6, 0.05), (1.6, 1.55), activation="tanh",
                                 batchnorm=False))
    assert "shrinks more than 10x" in text[0]
    assert "grows more than 10x" in text[1]
    assert text[2].startswith("This run disagrees") and "tanh" in text[2]
    assert "without batch norm" in text[2]
    assert "plain net trains" in text[3] and "residual net stalls" in text[3]
    assert "the plain net is ahead" in text[3]


def test_middle_cases():
    text = T.conclusions(_result(3.0, 0.5, (1.6, 1.0), (1.6, 0.9), activation="sigmoid"))
    assert "stays within 10x" in text[0] and "stays within 10x" in text[1]
    assert "sigmoid's slope is at most 1/4" in text[2]
    assert "plain net is slow" in text[3] and "neither net is clearly ahead" in text[3]


def test_thresholds_and_formula():
    assert T.profile(0.099) == "vanishes" and T.profile(0.1) == "stays"
    assert T.profile(10.0) == "stays" and T.profile(10.1) == "explodes"
    assert T.training(1.0, 0.49) == "trains" and T.training(1.0, 0.81) == "stalls"
    assert np.isclose(T.per_layer(16.0, 5), 2.0)
    latex = T.formula(_result(80.0, 2.0, (1.6, 1.5), (1.6, 0.01)))
    assert r"I + \frac{\partial F_l}" in latex and r"\prod_{l=2}^{L}" in latex
    assert "80" in latex and "^{4}" in latex
    assert "Thresholds" in T.describe(_result(80.0, 2.0, (1.6, 1.5), (1.6, 0.01)))


def test_residual_signal_is_compared_with_the_plain_nets():
    # the defaults' measured case: both grow past 10x, the residual one 260 times less
    text = T.conclusions(_result(4.16e3, 15.8, (1.8, 1.57), (1.2, 0.012)))
    assert text[1].startswith("Residual: the backward signal grows more than 10x")
    assert ": 260 times closer to 1 than the plain net's." in text[1]
    assert "keeps the residual product closer to 1" in text[2]
    # swapped: the residual net drifts further, and the sentences say so
    swapped = T.conclusions(_result(15.8, 4.16e3, (1.8, 1.57), (1.2, 0.012)))
    assert "times further from 1 than the plain net's" in swapped[1]
    assert swapped[2].startswith("This run disagrees")
    # both far from 1 and within 10x of each other: no effect of the shortcut claimed
    alike = T.conclusions(_result(4e3, 1e3, (1.8, 1.57), (1.8, 1.5)))
    assert "as far from 1 as the plain net's, within 10x" in alike[1]
    assert "does not show its effect" in alike[2] and "closer to 1" not in alike[2]
    word, factor = T.comparison(100.0, 1 / 100.0)  # shrinking counts as drift too
    assert word == "alike" and np.isclose(factor, 1.0)
