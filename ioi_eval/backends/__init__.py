"""Backends: where the in-box executor runs (local now; Docker and E2B plug in the same way)."""

from __future__ import annotations

from ..errors import IoiEvalError
from .base import Backend, Box
from .local import LocalBackend

BACKENDS: dict[str, type] = {"local": LocalBackend}


def get_backend(name: str, **options: object) -> Backend:
    """The backend registered under ``name``."""
    try:
        return BACKENDS[name](**options)
    except KeyError:
        raise IoiEvalError(f"unknown backend {name!r}; available: {', '.join(BACKENDS)}") from None


__all__ = ["BACKENDS", "Backend", "Box", "LocalBackend", "get_backend"]
