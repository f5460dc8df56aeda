"""Backends: where the in-box executor runs (in-process, or in Docker containers or E2B sandboxes).

:data:`BACKENDS` is the only list of backend names. It maps each name to its class, importing a backend's module
only when that backend is asked for, so that naming them (the command line's choices) costs nothing.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping

from ..errors import IoiEvalError


class _Registry(Mapping[str, type]):
    """Names to classes, each given as ``"module:Class"`` and imported on first use."""

    def __init__(self, entries: dict[str, str]) -> None:
        self._entries = entries

    def __getitem__(self, name: str) -> type:
        module, _, cls = self._entries[name].partition(":")
        return getattr(importlib.import_module(module), cls)

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


BACKENDS: Mapping[str, type] = _Registry({
    "local": "ioi_eval.backends.local:LocalBackend",
    "docker": "ioi_eval.backends.docker:DockerBackend",
    "e2b": "ioi_eval.backends.e2b:E2BBackend",
})


def get_backend(name: str, **options: object):
    """The backend registered under ``name`` (a :class:`~ioi_eval.backends.base.Backend`)."""
    if name not in BACKENDS:
        raise IoiEvalError(f"unknown backend {name!r}; available: {', '.join(BACKENDS)}")
    return BACKENDS[name](**options)


__all__ = ["BACKENDS", "get_backend"]
