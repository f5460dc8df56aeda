"""-v/-q and $IOI_EVAL_LOG_LEVEL set the ioi_eval loggers' level; rich's handler on a terminal, plain lines off it."""

from __future__ import annotations

import io
import logging
import os
import re

import pytest

from ioi_eval.cli import logs
from ioi_eval.errors import IoiEvalError


@pytest.fixture(autouse=True)
def _restore(monkeypatch):
    monkeypatch.delenv("IOI_EVAL_LOG_LEVEL", raising=False)
    logger = logging.getLogger("ioi_eval")
    before = (list(logger.handlers), logger.level)
    yield
    logger.handlers[:] = before[0]
    logger.setLevel(before[1])
    logs._state["verbosity"] = 0


@pytest.mark.parametrize(("verbose", "quiet", "level", "verbosity"), [
    (0, 0, logging.WARNING, 0), (1, 0, logging.INFO, 1), (2, 0, logging.DEBUG, 2), (3, 0, logging.DEBUG, 3),
    (0, 1, logging.ERROR, -1), (1, 1, logging.WARNING, 0)])
def test_levels(verbose: int, quiet: int, level: int, verbosity: int) -> None:
    assert logs.setup(verbose, quiet, stream=io.StringIO()) == level
    assert logging.getLogger("ioi_eval").level == level
    assert logs.verbosity() == verbosity and logs.quiet() == (verbosity < 0)


def test_plain_lines_off_a_terminal_and_one_handler_however_often_set_up() -> None:
    buf = io.StringIO()
    logs.setup(1, 0, stream=buf)
    logs.setup(1, 0, stream=buf)
    logging.getLogger("ioi_eval.run.pipeline").info("pip install 'ioi-eval[vllm]'")
    logging.getLogger("ioi_eval.judge").debug("not shown at -v")
    lines = buf.getvalue().splitlines()
    assert len(lines) == 1
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d INFO ioi_eval\.run\.pipeline: pip install 'ioi-eval\[vllm\]'",
                        lines[0]), lines


def test_rich_handler_on_a_terminal() -> None:
    from rich.logging import RichHandler

    master, slave = os.openpty()
    try:
        with open(slave, "w", closefd=False) as tty:
            handler = logs.make_handler(tty)
            assert isinstance(handler, RichHandler)
            assert handler.markup is False  # brackets in messages (install hints) are kept
        assert not isinstance(logs.make_handler(io.StringIO()), RichHandler)
    finally:
        os.close(master)
        os.close(slave)


def test_the_default_handler_follows_sys_stderr(monkeypatch) -> None:
    logs.setup(1, 0)
    for _ in range(2):  # e.g. a test runner that swaps stderr between commands
        buf = io.StringIO()
        monkeypatch.setattr("sys.stderr", buf)
        logging.getLogger("ioi_eval.x").info("hello")
        assert buf.getvalue().endswith("INFO ioi_eval.x: hello\n")


def test_level_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("IOI_EVAL_LOG_LEVEL", "debug")
    assert logs.setup(stream=io.StringIO()) == logging.DEBUG and logs.verbosity() == 2
    assert logs.setup(0, 1, stream=io.StringIO()) == logging.ERROR  # a flag wins
    monkeypatch.setenv("IOI_EVAL_LOG_LEVEL", "loud")
    with pytest.raises(IoiEvalError, match="IOI_EVAL_LOG_LEVEL"):
        logs.setup(stream=io.StringIO())
