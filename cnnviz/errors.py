"""Errors a user can cause, with messages a student understands.

Every failure caused by input (an image, a zip, a model file, a setting) raises
one of these. The UI shows ``str(error)`` and carries on; anything else is a bug.
"""


class CnnvizError(Exception):
    """Base class: something the user gave us cannot be used, and why."""


class ImageError(CnnvizError):
    """An image could not be read or is unsuitable (corrupt, empty, too large)."""


class DatasetError(CnnvizError):
    """A dataset could not be loaded (offline, corrupt archive, too few classes)."""


class ModelError(CnnvizError):
    """A model could not be loaded or does not fit the task (unsafe, not a CNN)."""


class LessonError(CnnvizError):
    """A lesson file cannot be used; ``problems`` lists each bad field on its own line."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class PollError(CnnvizError):
    """The class poll cannot take or count answers (a bad class code, its store is away)."""
