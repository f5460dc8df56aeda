"""Problem sources: what ``--problems`` accepts.

A spec is either ``<scheme>:<rest>`` for a registered scheme (``SCHEMES``) or a local path. A local
path is offered to each detector in ``DETECTORS`` (e.g. "holds a ``problem.yaml``") before it is
taken as CMS-layout packages.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..errors import IoiEvalError
from ..problem.model import Problem
from . import kattis, polygon
from .base import ProblemSource
from .cms import CmsSource
from .hf import HfSource, detect_dataset
from .kattis import KattisSource
from .loader import load_problem
from .polygon import PolygonSource

#: ``scheme -> factory(rest_of_spec)``; e.g. ``"hf": ...`` serves ``hf:open-r1/ioi``.
SCHEMES: dict[str, Callable[[str], ProblemSource]] = {"cms": CmsSource, "hf": HfSource, "kattis": KattisSource,
                                                      "polygon": PolygonSource}

#: Local-path detectors, tried in order: each returns a source for paths in its format, else None.
DETECTORS: list[Callable[[Path], ProblemSource | None]] = [kattis.detect, polygon.detect, detect_dataset]


def resolve_source(spec: str) -> ProblemSource:
    """The source a ``--problems`` spec names."""
    if not is_local(spec):
        scheme, _, rest = spec.partition(":")
        return SCHEMES[scheme](rest)
    path = Path(spec)
    for detect in DETECTORS:
        source = detect(path)
        if source is not None:
            return source
    return CmsSource(path)


def load_problem_set(spec: str, only: list[str] | None = None) -> list[Problem]:
    """The problems of a ``--problems`` spec (a path or e.g. ``hf:...``), optionally only some codes."""
    problems = [load_problem(root) for root in resolve_source(spec).packages()]
    if only:
        missing = set(only) - {p.code for p in problems}
        if missing:
            raise IoiEvalError(f"{spec}: no problems named {', '.join(sorted(missing))}")
        problems = [p for p in problems if p.code in only]
    return problems


def is_local(spec: str) -> bool:
    """Whether a spec names a local path (rather than a scheme such as ``hf:``)."""
    scheme, sep, _ = spec.partition(":")
    return not (sep and scheme in SCHEMES) or Path(spec).exists()


__all__ = ["DETECTORS", "SCHEMES", "CmsSource", "HfSource", "KattisSource", "PolygonSource", "ProblemSource",
           "is_local", "load_problem_set", "resolve_source"]
