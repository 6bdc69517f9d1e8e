"""Predict, then reveal: scoring and the sentence on the gap, for each kind of question."""

from __future__ import annotations

import numpy as np
import pytest

from cnnviz import questions
from cnnviz.questions import Measured

WIDTH = questions.number("pool_width", "How many pixels wide is the pooled map?", unit="pixels")
ZEROS = questions.choice("act_zeros", "What happens to the share of zeros?",
                         ["it grows", "it shrinks", "it stays about the same"])
PEAK = questions.click("erf_peak", "Which pixel moves the unit most?", tolerance=2)


def test_a_number_right_and_wrong_give_different_sentences():
    measured = Measured(31, why="(64 - 2) // 2 + 1 = 31 windows fit")
    right = questions.score(WIDTH, 31, measured)
    assert right.correct and right.answer == "31 pixels" and right.measured == "31 pixels"
    assert right.sentence == ("You said 31 pixels, exactly the measured 31 pixels: "
                              "(64 - 2) // 2 + 1 = 31 windows fit.")
    low = questions.score(WIDTH, 30, measured)
    assert not low.correct
    assert low.sentence.startswith("You said 30 pixels, 1 fewer than the measured 31 pixels")
    high = questions.score(WIDTH, 62, measured)
    assert "31 more than the measured" in high.sentence
    assert "(twice the measurement)" in high.sentence
    assert low.sentence != high.sentence != right.sentence


def test_the_sentence_follows_the_measurement_not_the_question():
    # the same answer against a measurement where the opposite holds
    said = 16
    smaller = questions.score(WIDTH, said, Measured(8, why="stride 4"))
    larger = questions.score(WIDTH, said, Measured(32, why="stride 1"))
    assert "8 more than the measured 8 pixels" in smaller.sentence
    assert "(twice the measurement)" in smaller.sentence
    assert "16 fewer than the measured 32 pixels" in larger.sentence
    assert "(half the measurement)" in larger.sentence
    assert smaller.sentence.endswith("stride 4.") and larger.sentence.endswith("stride 1.")


def test_a_number_within_its_tolerance_counts_as_right():
    question = questions.number("rf", "Receptive field?", tolerance=2)
    verdict = questions.score(question, 30, Measured(32, why="grows"))
    assert verdict.correct and "within ±2 of the measured 32" in verdict.sentence
    assert not questions.score(question, 29, Measured(32, why="grows")).correct


def test_a_measured_text_is_shown_instead_of_the_bare_number():
    verdict = questions.score(WIDTH, 30, Measured(28, why="valid padding loses 2",
                                                  text="28×28"))
    assert verdict.measured == "28×28"
    assert verdict.sentence == ("You said 30 pixels, 2 more than the measured 28×28: "
                                "valid padding loses 2.")


def test_a_choice_right_wrong_and_not_among_the_options():
    grows = Measured("it grows", why="zeros go from 30% to 80%")
    right = questions.score(ZEROS, "it grows", grows)
    wrong = questions.score(ZEROS, "it shrinks", grows)
    assert right.correct and not wrong.correct
    assert right.sentence == ("You chose “it grows”, and that is what the page measures: "
                              "zeros go from 30% to 80%.")
    assert wrong.sentence.startswith("You chose “it shrinks”, but the page measures "
                                     "“it grows”")
    shrinks = questions.score(ZEROS, "it shrinks", Measured("it shrinks", why="80% to 30%"))
    assert shrinks.correct and "80% to 30%" in shrinks.sentence
    odd = questions.score(ZEROS, "it grows", Measured("it doubles", why="x"))
    assert not odd.correct and "none of the options" in odd.sentence


def _blob(centre, shape=(32, 32), sigma=3.0):
    rows, cols = np.mgrid[: shape[0], : shape[1]]
    return np.exp(-((rows - centre[0]) ** 2 + (cols - centre[1]) ** 2) / (2 * sigma ** 2))


def test_a_click_inside_near_and_outside_the_hot_region():
    heat = Measured(_blob((10, 20)), why="the gradient peaks there")
    inside = questions.score(PEAK, (11, 21), heat)
    assert inside.correct and "inside the hot region" in inside.sentence
    assert "1 pixel from the measured peak (row 10, col 20)" in inside.sentence
    outside = questions.score(PEAK, (28, 2), heat)
    assert not outside.correct and "outside the hot region" in outside.sentence
    # the same click against a map whose peak is where the student clicked
    moved = questions.score(PEAK, (28, 2), Measured(_blob((28, 2)), why="moved"))
    assert moved.correct and moved.sentence != outside.sentence
    # a narrow peak: just outside its hot region, but within the tolerance of 2 pixels
    narrow = Measured(_blob((10, 20), sigma=0.5), why="narrow")
    near = questions.score(PEAK, (10, 22), narrow)
    assert near.correct and "just outside the hot region" in near.sentence
    assert not questions.score(PEAK, (10, 24), narrow).correct


def test_a_click_on_an_empty_map_is_not_right():
    verdict = questions.score(PEAK, (3, 3), Measured(np.zeros((8, 8)), why="unit is off"))
    assert not verdict.correct and "0 everywhere" in verdict.sentence
    with pytest.raises(ValueError, match="outside"):
        questions.score(PEAK, (9, 3), Measured(np.zeros((8, 8)), why=""))


def test_questions_check_their_fields():
    with pytest.raises(ValueError, match="id"):
        questions.number("Pool Width", "?")
    with pytest.raises(ValueError, match="two different options"):
        questions.choice("c", "?", ["same", "same"])
    with pytest.raises(ValueError, match="tolerance"):
        questions.number("n", "?", tolerance=-1)
    with pytest.raises(ValueError, match="empty prompt"):
        questions.click("k", "  ")
    lesson_words = WIDTH.adapted(prompt="How wide now?", tolerance=1)
    assert lesson_words.prompt == "How wide now?" and lesson_words.tolerance == 1
    assert lesson_words.id == WIDTH.id and lesson_words.unit == "pixels"


def test_poll_answers_and_the_class_sentence():
    assert questions.poll_answer(WIDTH, 31.0) == "31"
    assert questions.poll_answer(ZEROS, "it grows") == "it grows"
    assert questions.poll_answer(PEAK, (1, 30), (32, 32)) == "top right"
    assert questions.poll_answer(PEAK, (16, 16), (32, 32)) == "centre"
    measured = Measured(31, why="31 windows fit")
    tally = {"31": 2, "30": 1, "62": 1}
    sentence = questions.class_sentence(WIDTH, tally, measured)
    assert sentence.startswith("2 of 4 answers (50%) match the measured 31")
    assert "most common other answer was" in sentence
    everyone = questions.class_sentence(WIDTH, {"31": 3}, measured)
    assert everyone.startswith("3 of 3 answers (100%)") and "other answer" not in everyone
    assert questions.poll_order(WIDTH, tally) == ["30", "31", "62"]
    assert questions.poll_order(ZEROS, {"it shrinks": 1, "it grows": 2}) == [
        "it grows", "it shrinks"]
    peak = questions.measured_poll_answer(PEAK, Measured(_blob((30, 30)), why=""))
    assert peak == "bottom right"
