"""Progress of long commands (``run``, ``ci``, ``judge``, ``problems validate``): bars on a terminal, plain lines
elsewhere.

:func:`progress_display` picks the display: rich's bars when the console is a terminal; off a terminal (a Slurm
log, a CI job, a pipe) one plain line per task every ``$IOI_EVAL_PROGRESS_INTERVAL`` seconds (default 30)::

    progress: judge 120/500 (24%), 1.20/s, elapsed 1m40s, ETA 5m17s, 3 judge errors

and a last line per task when the command ends (if it lasted over one interval: a short command prints no
progress); with ``-q``, nothing. A command counts its work through
:class:`Task` handles (``advance``, ``add_total``) and never needs to know which display draws them. Counting is
thread-safe: the run's judging threads advance the same task.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from ..envvars import env_number
from .logs import quiet

if TYPE_CHECKING:
    from rich.console import Console

#: Seconds between two plain progress lines, unless ``$IOI_EVAL_PROGRESS_INTERVAL`` says otherwise.
DEFAULT_INTERVAL = 30.0


def progress_interval() -> float:
    """``$IOI_EVAL_PROGRESS_INTERVAL`` in seconds (a positive number), else :data:`DEFAULT_INTERVAL`."""
    return env_number("IOI_EVAL_PROGRESS_INTERVAL", DEFAULT_INTERVAL, kind=float, positive=True, unit="seconds")


def duration(seconds: float) -> str:
    """``45s``, ``3m05s``, ``2h07m``."""
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


class Task:
    """One counted piece of work: done out of total (None: not known yet), failures, items skipped."""

    def __init__(self, display: Display, name: str, total: int | None, failed_label: str) -> None:
        self.name = name
        self.total = total
        self.done = 0
        self.failed = 0
        self.skipped = 0
        self.failed_label = failed_label
        self.started = time.monotonic()
        self._display = display

    def advance(self, n: int = 1, *, failed: bool = False, skipped: bool = False) -> None:
        """``n`` more items done (``failed``: they failed; ``skipped``: they were not needed)."""
        with self._display.lock:
            self.done += n
            self.failed += n if failed else 0
            self.skipped += n if skipped else 0
        self._display.changed(self)

    def add_failed(self, n: int = 1) -> None:
        """``n`` items already counted as done turned out to have failed."""
        with self._display.lock:
            self.failed += n
        self._display.changed(self)

    def set_total(self, total: int | None) -> None:
        """The number of items, once known."""
        with self._display.lock:
            self.total = total
        self._display.changed(self)

    def add_total(self, n: int = 1) -> None:
        """``n`` more items to do (work discovered as the command goes)."""
        with self._display.lock:
            self.total = (self.total or 0) + n
        self._display.changed(self)

    def line(self, now: float | None = None, final: bool = False) -> str:
        """The task as one plain line: done/total (percent), rate, elapsed, ETA, failures and skips."""
        elapsed = max((now or time.monotonic()) - self.started, 1e-9)
        rate = self.done / elapsed
        parts = [f"{self.name} {self.done}/{self.total}" + (f" ({self.done * 100 // self.total}%)" if self.total
                                                            else "") if self.total is not None
                 else f"{self.name} {self.done} done"]
        parts.append(f"{rate:.2f}/s" if self.done else "-/s")
        parts.append(("took " if final else "elapsed ") + duration(elapsed))
        if not final and self.total is not None and self.done and self.total > self.done:
            parts.append(f"ETA {duration((self.total - self.done) / rate)}")
        if self.failed or self.failed_label:
            parts.append(f"{self.failed} {self.failed_label}")
        if self.skipped:
            parts.append(f"{self.skipped} skipped")
        return ", ".join(p for p in parts if p)


class Display:
    """Where tasks are drawn. This base class draws nothing (``-q``); subclasses draw bars or lines."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.lock = threading.RLock()
        self.tasks: list[Task] = []

    def task(self, name: str, total: int | None = None, failed_label: str = "failed") -> Task:
        """A new task drawn by this display."""
        t = Task(self, name, total, failed_label)
        with self.lock:
            self.tasks.append(t)
        self.added(t)
        return t

    def note(self, message: str, style: str | None = None) -> None:
        """A line worth reading whatever the verbosity (a warning-like note): printed as is, no markup."""
        self.console.print(message, style=style, markup=False, highlight=False, soft_wrap=True)

    def info(self, message: str) -> None:
        """An informative line (the run folder, ...): left out with ``-q``."""
        if not quiet():
            self.console.print(message, markup=False, highlight=False, soft_wrap=True)

    def added(self, task: Task) -> None:
        """Hook: a task was added."""

    def changed(self, task: Task) -> None:
        """Hook: a task's counts changed."""

    def start(self) -> None:
        """Hook: the display starts."""

    def stop(self) -> None:
        """Hook: the display ends (the command's work is over, or it failed)."""


class RichDisplay(Display):
    """Rich's live bars, for a terminal."""

    def start(self) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.bars = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                             TextColumn("{task.fields[rate]}", style="cyan"), TimeElapsedColumn(),
                             TimeRemainingColumn(), TextColumn("{task.fields[failures]}", style="red"),
                             console=self.console, transient=False)
        self.ids: dict[int, int] = {}
        self.bars.start()
        for t in self.tasks:
            self.added(t)

    def added(self, task: Task) -> None:
        if hasattr(self, "bars"):
            self.ids[id(task)] = self.bars.add_task(task.name, total=task.total, rate="", failures="")

    def changed(self, task: Task) -> None:
        if not hasattr(self, "bars"):
            return
        elapsed = max(time.monotonic() - task.started, 1e-9)
        failures = f"{task.failed} {task.failed_label}" if task.failed else ""
        self.bars.update(self.ids[id(task)], completed=task.done, total=task.total, failures=failures,
                         rate=f"{task.done / elapsed:.2f}/s" if task.done else "-/s")

    def stop(self) -> None:
        if hasattr(self, "bars"):
            self.bars.stop()


class PlainDisplay(Display):
    """Plain lines at a fixed interval, for logs: a background thread prints every task each ``interval``."""

    def __init__(self, console: Console, interval: float) -> None:
        super().__init__(console)
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._printed = False

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="ioi-progress", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.emit(final=False)
            self._printed = True

    def emit(self, final: bool) -> None:
        """One line per task (at the end: per task that did something or has something to do)."""
        now = time.monotonic()
        with self.lock:
            lines = [t.line(now, final) for t in self.tasks if not final or t.done or t.total]
        for line in lines:
            self.console.print(f"progress: {line}", markup=False, highlight=False, soft_wrap=True)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._printed:  # a command shorter than one interval prints no progress at all
            self.emit(final=True)


def make_display(console: Console) -> Display:
    """The display for ``console``: none with ``-q``, bars on a terminal, interval lines otherwise."""
    if quiet():
        return Display(console)
    if console.is_terminal:
        return RichDisplay(console)
    return PlainDisplay(console, progress_interval())


@contextmanager
def progress_display(console: Console) -> Iterator[Display]:
    """A started display for ``console`` (see :func:`make_display`), stopped when the block ends."""
    display = make_display(console)
    display.start()
    try:
        yield display
    finally:
        display.stop()
