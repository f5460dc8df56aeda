"""Errors that the CLI reports as clear messages instead of tracebacks."""


class IoiEvalError(Exception):
    """Base class of errors with a message meant for the user."""


class PackageError(IoiEvalError):
    """A problem package is malformed or incomplete; the message names the file and the problem."""


class JudgeError(IoiEvalError):
    """The judge (not the submission) failed: a missing compiler, a broken checker, a box failure."""


class SourceError(IoiEvalError):
    """A problem source cannot be read (missing, wrong format, not in the cache while offline)."""
