"""A run folder (``runs/<id>``): the names of the files a run and its readers keep there.

``ioi-eval run`` writes the store (:data:`RunFolder.STORE`) as it goes and the scores
(:data:`RunFolder.SUMMARY`, a ``RunScore``) at the end; ``ioi-eval ci`` adds its reports
(:data:`RunFolder.CI_SUMMARY`, :data:`RunFolder.CI_JUNIT`) and the new baseline
(:data:`RunFolder.CI_BASELINE`). A folder is a run folder when it holds the store.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from ..errors import RunFolderError

if TYPE_CHECKING:  # the store (and its pydantic models) is imported when a store is opened
    from .store import RunStore


@dataclass(frozen=True)
class RunFolder:
    """The paths of one run folder, and the way readers open its store."""

    root: Path

    STORE: ClassVar[str] = "run.sqlite"
    SUMMARY: ClassVar[str] = "summary.json"
    CI_SUMMARY: ClassVar[str] = "ci-summary.md"
    CI_JUNIT: ClassVar[str] = "ci-junit.xml"
    CI_BASELINE: ClassVar[str] = "ci-baseline.json"

    @property
    def name(self) -> str:
        """The folder's name (a run's short id)."""
        return self.root.name

    @property
    def store_path(self) -> Path:
        """The run store (SQLite, WAL): config, requests, completions, extractions, judge reports."""
        return self.root / self.STORE

    @property
    def summary_path(self) -> Path:
        """The run's scores as ``ioi-eval run`` printed them (a ``RunScore`` in JSON)."""
        return self.root / self.SUMMARY

    @property
    def ci_summary_path(self) -> Path:
        """``ioi-eval ci``'s Markdown summary (its default place)."""
        return self.root / self.CI_SUMMARY

    @property
    def ci_junit_path(self) -> Path:
        """``ioi-eval ci``'s JUnit XML report (its default place)."""
        return self.root / self.CI_JUNIT

    @property
    def ci_baseline_path(self) -> Path:
        """The baseline ``ioi-eval ci`` writes from the run's scores (its default place)."""
        return self.root / self.CI_BASELINE

    def is_run(self) -> bool:
        """Whether the folder holds a run store."""
        return self.store_path.is_file()

    def check(self) -> None:
        """Raise :class:`RunFolderError` naming the folder unless it is a run folder."""
        if not self.root.is_dir():
            raise RunFolderError(f"{self.root}: no such run folder (not a run folder; make one with `ioi-eval run`)")
        if not self.is_run():
            raise RunFolderError(f"{self.root}: not a run folder (no {self.STORE}); make one with `ioi-eval run`")

    def open_store(self) -> RunStore:
        """The store for writing (created, with the folder, when missing): for the run itself."""
        from .store import RunStore

        return RunStore(self.store_path)

    @contextmanager
    def reading(self) -> Iterator[RunStore]:
        """The store opened read-only for the block (readers never create, migrate or checkpoint a run).

        Raises :class:`RunFolderError` when this is not a run folder, when the store cannot be opened,
        and when it turns out not to be a readable run store (damaged, or another database) in the block.
        """
        from .store import RunStore

        self.check()
        try:
            store = RunStore(self.store_path, readonly=True)
        except (OSError, sqlite3.Error) as exc:
            raise RunFolderError(f"{self.store_path}: cannot open the run store: {exc}") from exc
        try:
            yield store
        except sqlite3.DatabaseError as exc:
            raise RunFolderError(f"{self.store_path}: not a readable run store ({exc}); the file is damaged or "
                                 "not from `ioi-eval run`") from exc
        finally:
            store.close()
