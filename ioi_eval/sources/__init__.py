"""Problem sources: what ``--problems`` accepts.

A spec is either ``<scheme>:<rest>`` for a registered scheme (``SCHEMES``) or a local path. A local
path is offered to each detector in ``DETECTORS`` (e.g. "holds a ``problem.yaml``") before it is
taken as CMS-layout packages.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import IoiEvalError
from ..registry import LazyRegistry, load

if TYPE_CHECKING:
    from ..problem.model import Problem
    from .base import ProblemSource

#: ``scheme -> factory(rest_of_spec)``; e.g. ``"hf": ...`` serves ``hf:open-r1/ioi``. Importers are imported when
#: used, so that reading one CMS package (``sources.loader``) pulls in none of them.
SCHEMES: Mapping[str, Callable[[str], ProblemSource]] = LazyRegistry({
    "cms": "ioi_eval.sources.cms:CmsSource", "hf": "ioi_eval.sources.hf:HfSource",
    "kattis": "ioi_eval.sources.kattis:KattisSource", "polygon": "ioi_eval.sources.polygon:PolygonSource"})

#: Local-path detectors, tried in order: each returns a source for paths in its format, else None.
DETECTORS: tuple[str, ...] = ("ioi_eval.sources.kattis:detect", "ioi_eval.sources.polygon:detect",
                              "ioi_eval.sources.hf:detect_dataset")


def resolve_source(spec: str) -> ProblemSource:
    """The source a ``--problems`` spec names."""
    if not is_local(spec):
        scheme, _, rest = spec.partition(":")
        return SCHEMES[scheme](rest)
    path = Path(spec)
    if _plain_cms_package(path):  # the common case (judge --problem), settled without importing the other readers
        return SCHEMES["cms"](str(path))
    for detector in DETECTORS:
        source = load(detector)(path)
        if source is not None:
            return source
    return SCHEMES["cms"](str(path))


#: What the detectors look for in a folder or in its sub-folders (Kattis, Polygon, a saved dataset).
_DETECTED_MARKERS = ("problem.yaml", "problem.xml", "contest.xml", "state.json", "dataset_dict.json")


def _plain_cms_package(path: Path) -> bool:
    """A folder holding ``problem.json`` where no detector would find its format (nor in a sub-folder)."""
    try:
        if not (path.is_dir() and (path / "problem.json").is_file()):
            return False
        folders = [path, *(c for c in path.iterdir() if c.is_dir())]
        return not any((f / marker).exists() for f in folders for marker in _DETECTED_MARKERS)
    except OSError:
        return False


def load_problem_set(spec: str, only: list[str] | None = None) -> list[Problem]:
    """The problems of a ``--problems`` spec (a path or e.g. ``hf:...``), optionally only some codes."""
    from .loader import load_problem

    problems = [load_problem(root) for root in resolve_source(spec).packages()]
    if only:
        missing = set(only) - {p.code for p in problems}
        if missing:
            raise IoiEvalError(f"{spec}: no problems named {', '.join(sorted(missing))}")
        problems = [p for p in problems if p.code in only]
    return problems


def load_one_problem(spec: str) -> Problem:
    """The one problem a spec names (``judge --problem``): any ``--problems`` spec that holds exactly one."""
    from .loader import load_problem

    roots = resolve_source(spec).packages()
    if len(roots) != 1:
        names = ", ".join(r.name for r in roots[:8]) + (", ..." if len(roots) > 8 else "")
        raise IoiEvalError(f"{spec}: holds {len(roots)} problems ({names}); name one (e.g. its folder)")
    return load_problem(roots[0])


def is_local(spec: str) -> bool:
    """Whether a spec names a local path (rather than a scheme such as ``hf:``)."""
    scheme, sep, _ = spec.partition(":")
    return not (sep and scheme in SCHEMES) or Path(spec).exists()


def __getattr__(name: str) -> Any:
    """The source classes, imported on first use (``from ioi_eval.sources import KattisSource``)."""
    classes = {"CmsSource": "cms", "HfSource": "hf", "KattisSource": "kattis", "PolygonSource": "polygon",
               "ProblemSource": None}
    if name not in classes:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return load("ioi_eval.sources.base:ProblemSource") if classes[name] is None else SCHEMES[classes[name]]


__all__ = ["DETECTORS", "SCHEMES", "CmsSource", "HfSource", "KattisSource", "PolygonSource", "ProblemSource",
           "is_local", "load_one_problem", "load_problem_set", "resolve_source"]
