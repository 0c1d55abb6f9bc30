"""Exceptions whose messages are meant for the person using the app."""


class UserInputError(ValueError):
    """Bad input from a user. The message is shown as-is in the UI and API,
    so it must name the problem and the limit."""


class ModelLoadError(RuntimeError):
    """A checkpoint that cannot be loaded: missing file, missing or extra
    tensor, bad config. The message names the file and the problem."""


class ModelFilesMissing(RuntimeError):
    """The model's files are not on disk and cannot be downloaded (offline)."""
