"""Every error type of ioi-eval: the ones the CLI reports as clear messages (exit 2) instead of tracebacks.

:class:`IoiEvalError` is the base of errors meant for the user; :class:`JudgeError` and its subclasses mean the
judge (not the submission) failed, which a judged test reports as SE.
"""


class IoiEvalError(Exception):
    """Base class of errors with a message meant for the user."""


class EnvVarError(IoiEvalError):
    """An environment setting (``$IOI_EVAL_...``) holds a value it cannot take; the message names the variable,
    the value and what it must be."""


# -- problems and their sources ---------------------------------------------------------------------

class PackageError(IoiEvalError):
    """A problem package is malformed or incomplete; the message names the file and the problem."""


class PackageWarning(UserWarning):
    """A package is usable but probably not what its author meant (e.g. a subtask with no tests and no points)."""


class SourceError(IoiEvalError):
    """A problem source cannot be read (missing, wrong format, not in the cache while offline)."""


# -- judging and boxes ------------------------------------------------------------------------------

class JudgeError(IoiEvalError):
    """The judge (not the submission) failed: a missing compiler, a broken checker, a box failure."""


class ChannelError(JudgeError):
    """The channel broke: the box died, hung or spoke garbage. Its jobs may be retried elsewhere."""


class BoxRequestError(JudgeError):
    """The box answered, but the request failed inside it (e.g. a missing file)."""


class BoxLostError(JudgeError):
    """A remote box (a container, a VM, a Ray actor) was lost holding a scratch folder that a later step of the
    same test or compile needs: that step cannot run elsewhere, so the caller runs the whole test (or compile)
    again, once."""


class E2BError(JudgeError):
    """The e2b package or the API key is missing, E2B refused us, or no sandbox could be started."""


class SandboxError(IoiEvalError):
    """The local sandbox cannot be set up as asked: an unknown isolation, or one required that does not work here."""


class RayClusterError(JudgeError):
    """The Ray backend cannot start or reach its cluster: ray not installed, no cluster at the address, not
    enough CPUs for one judge actor."""


class DockerError(IoiEvalError):
    """Docker is missing, not running, or cannot start the judge containers."""


class SuiteError(IoiEvalError):
    """The adversarial suite could not be set up (e.g. the judge fails even a well-behaved program)."""


# -- runs and what reads them -----------------------------------------------------------------------

class PromptError(IoiEvalError):
    """A prompt cannot be built: an unknown language, a missing template or a template error."""


class EngineError(IoiEvalError):
    """The generation engine cannot serve: it does not start, its server does not answer or does not have the
    model, or it died during the run."""


class ConfigMismatch(IoiEvalError):
    """The run folder holds a run with another configuration."""


class RunFolderError(IoiEvalError):
    """A folder is not a run folder, or its run store cannot be opened or read."""


class RunLoadError(IoiEvalError):
    """A run folder is missing, is not a run, or its store or summary is unreadable."""


class BaselineError(IoiEvalError):
    """A baseline file is missing, unreadable, or not of a schema this version understands."""


class ExportError(IoiEvalError):
    """A run folder, a filter or the output cannot be used for an export."""


class PublishError(IoiEvalError):
    """A leaderboard cannot be pushed to the Hugging Face Hub (offline, no token, refused); its staged local copy
    is kept and named."""


class SelectError(IoiEvalError):
    """``ioi-eval select`` cannot score a run: an unknown strategy, a bad budget, problems it cannot find."""


# -- rewards for RL training ------------------------------------------------------------------------

class RewardConfigError(IoiEvalError):
    """A reward cannot be built or cannot serve a row: no backend, no compiler for the language, an unknown
    problem or subtask, a row that names no problem, an unknown mode."""


class RewardFaultError(IoiEvalError):
    """Too many rewards in the recent window were judge faults (sandbox errors, lost boxes, timeouts): the
    trainer must stop rather than train on what the judge could not score."""
