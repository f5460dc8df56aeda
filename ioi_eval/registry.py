"""A registry of plug-ins by name whose modules are imported only when a plug-in is asked for.

Listing the names (the command line's choices, an error message) then costs nothing, and a plug-in's optional
dependencies are needed only by those who use it.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import Any


def load(target: str) -> Any:
    """The object ``"module:attribute"`` names (importing the module)."""
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


class LazyRegistry(Mapping[str, Any]):
    """Names to objects, each given as ``"module:attribute"`` and imported on first use."""

    def __init__(self, entries: dict[str, str]) -> None:
        self._entries = dict(entries)

    def __getitem__(self, name: str) -> Any:
        return load(self._entries[name])

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)
