"""Backends: where the in-box executor runs (in-process, in Docker containers, E2B sandboxes, on Ray nodes).

:data:`BACKENDS` is the only list of backend names. It maps each name to its class, importing a backend's module
only when that backend is asked for, so that naming them (the command line's choices) costs nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import IoiEvalError
from ..registry import LazyRegistry

BACKENDS: Mapping[str, type] = LazyRegistry({
    "local": "ioi_eval.backends.local:LocalBackend",
    "docker": "ioi_eval.backends.docker:DockerBackend",
    "e2b": "ioi_eval.backends.e2b:E2BBackend",
    "ray": "ioi_eval.backends.ray:RayBackend",
})


def get_backend(name: str, **options: object):
    """The backend registered under ``name`` (a :class:`~ioi_eval.backends.base.Backend`)."""
    if name not in BACKENDS:
        raise IoiEvalError(f"unknown backend {name!r}; available: {', '.join(BACKENDS)}")
    return BACKENDS[name](**options)


__all__ = ["BACKENDS", "get_backend"]
