"""The local backend: the executor runs in this process, isolating each run with namespaces."""

from __future__ import annotations

from ioi_box.executor import Executor
from ioi_box.isolation import detect

from .base import Box


class LocalBackend:
    """Judge on this machine (bubblewrap + cgroups, or rlimits where those are unavailable)."""

    name = "local"

    def __init__(self, isolation: str | None = None) -> None:
        self.isolation = isolation

    def open(self, workers: int | None = None) -> Box:
        iso, note = detect(self.isolation)
        ex = Executor(isolation=iso, workers=workers)
        ex.isolation_note = note
        return ex
