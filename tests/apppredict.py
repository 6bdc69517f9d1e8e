"""Driving predict-then-reveal questions in AppTest."""

from __future__ import annotations

SKIP = "Show without guessing"
CHECK = "Check my answer"


def skip_questions(at, *, timeout: float = 180):
    """Choose "show without guessing" for every question on the page, so that tests of
    what the page shows see all of it (a skipped question stays open for the session)."""
    for _ in range(6):  # a revealed block may hold a question of its own
        buttons = [b for b in at.button if b.label == SKIP]
        if not buttons:
            return at
        for button in buttons:
            button.click()
        at.run(timeout=timeout)
    raise AssertionError("questions kept asking")


def question_text(at) -> str:
    """Everything the questions and the verdicts say, as one text."""
    parts = [m.value for m in at.markdown] + [i.value for i in at.info]
    parts += [s.value for s in at.success] + [str(m.value) for m in at.metric]
    return "\n".join(parts)
