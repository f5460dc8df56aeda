"""Backends: where the in-box executor runs (in-process, or in Docker containers or E2B sandboxes)."""

from __future__ import annotations

from ..errors import IoiEvalError
from .base import Backend, Box
from .docker import DockerBackend
from .e2b import E2BBackend
from .local import LocalBackend

BACKENDS: dict[str, type] = {"local": LocalBackend, "docker": DockerBackend, "e2b": E2BBackend}


def get_backend(name: str, **options: object) -> Backend:
    """The backend registered under ``name``."""
    try:
        return BACKENDS[name](**options)
    except KeyError:
        raise IoiEvalError(f"unknown backend {name!r}; available: {', '.join(BACKENDS)}") from None


__all__ = ["BACKENDS", "Backend", "Box", "DockerBackend", "E2BBackend", "LocalBackend", "get_backend"]
