"""Progress displays: plain interval lines off a terminal (done/total, rate, ETA, failures), nothing with -q."""

from __future__ import annotations

import io
import re
import threading
import time

import pytest
from rich.console import Console

from ioi_eval.cli import logs
from ioi_eval.cli.progress import (
    DEFAULT_INTERVAL,
    Display,
    PlainDisplay,
    RichDisplay,
    duration,
    make_display,
    progress_display,
    progress_interval,
)
from ioi_eval.errors import IoiEvalError

LINE = re.compile(r"^progress: judge (\d+)/(\d+) \((\d+)%\), ([\d.]+)/s, elapsed \S+, ETA \S+, (\d+) judge errors$")


def _console() -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, width=200, force_terminal=False), buf


@pytest.fixture(autouse=True)
def _default_verbosity():
    logs._state["verbosity"] = 0
    yield
    logs._state["verbosity"] = 0


def test_plain_lines_at_the_interval_then_a_last_line(monkeypatch) -> None:
    monkeypatch.setenv("IOI_EVAL_PROGRESS_INTERVAL", "0.05")
    console, buf = _console()
    with progress_display(console) as display:
        assert isinstance(display, PlainDisplay)
        task = display.task("judge", total=10, failed_label="judge errors")
        for i in range(4):
            task.advance(failed=i == 1)
            time.sleep(0.03)
        time.sleep(0.15)  # several intervals with no change still print (the job is alive)
        lines = [x for x in buf.getvalue().splitlines() if x.startswith("progress: judge 4/10")]
        assert len(lines) >= 2
        m = LINE.match(lines[-1])
        assert m, lines[-1]
        assert m.groups()[:3] == ("4", "10", "40") and m.group(5) == "1"
        assert float(m.group(4)) > 0
        task.advance(6, skipped=True)
    last = buf.getvalue().splitlines()[-1]
    assert re.match(r"^progress: judge 10/10 \(100%\), [\d.]+/s, took \S+, 1 judge errors, 6 skipped$", last), last
    assert "ETA" not in last


def test_a_command_shorter_than_the_interval_prints_nothing(monkeypatch) -> None:
    monkeypatch.setenv("IOI_EVAL_PROGRESS_INTERVAL", "3600")
    console, buf = _console()
    with progress_display(console) as display:
        display.task("judge", total=3).advance(3)
    assert buf.getvalue() == ""


def test_an_unknown_total_and_work_found_as_it_goes(monkeypatch) -> None:
    monkeypatch.setenv("IOI_EVAL_PROGRESS_INTERVAL", "3600")  # only the last lines
    console, buf = _console()
    with progress_display(console) as display:
        display._printed = True  # as after an interval line: the command was long enough for its last lines
        gen = display.task("generate")
        jud = display.task("judge", total=0, failed_label="judge errors")
        idle = display.task("extra")  # never started: no last line
        for _ in range(3):
            gen.advance()
            jud.add_total()
        jud.advance()
        jud.advance(failed=True)
        jud.add_failed()  # a done item found to have failed later
        assert idle.done == 0
    lines = buf.getvalue().splitlines()
    assert lines[0].startswith("progress: generate 3 done, ") and "ETA" not in lines[0]
    assert lines[1].startswith("progress: judge 2/3 (66%), ") and lines[1].endswith(", 2 judge errors")
    assert len(lines) == 2


def test_counting_is_thread_safe(monkeypatch) -> None:
    monkeypatch.setenv("IOI_EVAL_PROGRESS_INTERVAL", "0.001")
    console, _ = _console()
    with progress_display(console) as display:
        task = display.task("judge", total=4000)
        threads = [threading.Thread(target=lambda: [task.advance() for _ in range(1000)]) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert task.done == 4000


def test_quiet_draws_nothing_and_a_terminal_gets_bars(monkeypatch) -> None:
    console, buf = _console()
    logs._state["verbosity"] = -1
    with progress_display(console) as display:
        assert type(display) is Display
        display.task("judge", total=3).advance(3)
        display.info("run folder: x")
        display.note("a note is kept [even] with -q")
    assert buf.getvalue() == "a note is kept [even] with -q\n"
    logs._state["verbosity"] = 0
    tty = Console(file=io.StringIO(), force_terminal=True)
    assert isinstance(make_display(tty), RichDisplay)


def test_the_interval_setting(monkeypatch) -> None:
    monkeypatch.delenv("IOI_EVAL_PROGRESS_INTERVAL", raising=False)
    assert progress_interval() == DEFAULT_INTERVAL == 30
    monkeypatch.setenv("IOI_EVAL_PROGRESS_INTERVAL", "2.5")
    assert progress_interval() == 2.5
    for bad in ("0", "-1", "soon", "nan"):
        monkeypatch.setenv("IOI_EVAL_PROGRESS_INTERVAL", bad)
        with pytest.raises(IoiEvalError, match="IOI_EVAL_PROGRESS_INTERVAL"):
            progress_interval()


def test_duration() -> None:
    assert [duration(s) for s in (0.4, 59, 61, 3599, 3600 * 2 + 7 * 60)] == ["0s", "59s", "1m01s", "59m59s", "2h07m"]


def test_bars_on_a_terminal_show_counts_rate_and_failures() -> None:
    buf = io.StringIO()
    tty = Console(file=buf, force_terminal=True, width=120, color_system=None)
    with progress_display(tty) as display:
        assert isinstance(display, RichDisplay)
        task = display.task("judge", failed_label="judge errors")
        task.set_total(5)
        for i in range(5):
            task.advance(failed=i == 0)
        display.note("a [note] kept as written")
    text = buf.getvalue()
    assert "a [note] kept as written" in text
    final = text.rsplit("\r", 1)[-1]
    assert "judge" in final and "5/5" in final and "1 judge errors" in final and "/s" in final
