"""A run that cannot produce anything does not succeed (issue 11, section 4), through the command line:

* preflight: a dead server or a model the server does not list stops ``run`` and ``ci`` at once with exit 2 and
  one ``error:`` line naming the cause, before anything is queued (no run folder, no failed generation);
* a run in which every generation failed exits 2 with the first causes on stderr;
* an engine that dies mid-run (vLLM's ``EngineDeadError``) ends the run with the "re-run to resume" message, no
  traceback, and what was stored (completions and their judgements) stays for the resume.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PROBLEMS
from tests.fixtures.fake_openai_server import FakeServer, Reply, serve

REPO = Path(__file__).resolve().parents[2]


def ioi_eval(*args: str, cwd: Path, env: dict | None = None, module: str = "ioi_eval.cli"
             ) -> subprocess.CompletedProcess:
    pythonpath = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    return subprocess.run([sys.executable, "-m", module, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600, env={**os.environ, "COLUMNS": "200", "PYTHONPATH": pythonpath,
                                            "OPENAI_API_KEY": "k", **(env or {})})


def dead_url() -> str:
    """A loopback URL with nothing listening on it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/v1"


def rows(run_dir: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(run_dir / "run.sqlite") as db:
        return db.execute(sql).fetchall()


def one_error_line(stderr: str) -> str:
    """The single ``error:`` line of a command that failed cleanly (and no traceback)."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, stderr
    return lines[0]


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with serve() as state:
        state.models = ["served-model"]
        yield state


RUN = ("--engine", "openai", "--problems", str(PROBLEMS), "--only", "rainfall", "--samples", "1")


@pytest.mark.parametrize("command", ["run", "ci"])
def test_a_dead_server_stops_before_anything_is_queued(tmp_path: Path, command: str) -> None:
    run_dir = tmp_path / "r"
    extra = ("--baseline", str(tmp_path / "none.json"), "--init-baseline") if command == "ci" else ()
    res = ioi_eval(command, "--model", "m", "--base-url", dead_url(), *RUN, "--run-dir", str(run_dir), *extra,
                   cwd=tmp_path)
    assert res.returncode == 2, res.stderr
    line = one_error_line(res.stderr)
    assert "does not answer" in line and "ConnectError" in line
    assert not (run_dir / "run.sqlite").exists()  # nothing queued, nothing recorded as failed


def test_a_model_the_server_does_not_list_stops_the_run(tmp_path: Path, server: FakeServer) -> None:
    run_dir = tmp_path / "r"
    res = ioi_eval("run", "--model", "typo-model", "--base-url", server.url, *RUN, "--run-dir", str(run_dir),
                   cwd=tmp_path)
    assert res.returncode == 2, res.stderr
    line = one_error_line(res.stderr)
    assert "'typo-model'" in line and "served-model" in line
    assert server.calls() == 0 and not (run_dir / "run.sqlite").exists()


def test_a_run_whose_every_generation_failed_exits_2_with_the_cause(tmp_path: Path, server: FakeServer) -> None:
    server.script = lambda path, body, n: Reply(status=400, body={"error": "context length exceeded"})
    run_dir = tmp_path / "r"
    res = ioi_eval("run", "--model", "served-model", "--base-url", server.url, *RUN, "--run-dir", str(run_dir),
                   cwd=tmp_path)
    assert res.returncode == 2, res.stderr
    line = one_error_line(res.stderr)
    assert "nothing was produced" in line and "HTTP 400" in line and "context length exceeded" in line
    failed = rows(run_dir, "SELECT COUNT(*) FROM generations WHERE status='failed'")[0][0]
    assert failed == server.calls() == 4  # the four rainfall subtasks, recorded as failed for the resume


def test_an_engine_that_dies_mid_run_keeps_what_was_done(tmp_path: Path) -> None:
    run_dir = tmp_path / "r"
    args = ("run", "--model", "m", "--engine", "dying", "--problems", str(PROBLEMS), "--only", "rainfall",
            "--samples", "1", "--run-dir", str(run_dir))
    res = ioi_eval(*args, cwd=tmp_path, env={"IOI_TEST_DIE_AFTER": "2"}, module="tests.fixtures.dying_engine")
    assert res.returncode == 2, res.stderr
    line = one_error_line(res.stderr)
    assert "EngineDeadError" in line and "re-run to resume" in line
    done = rows(run_dir, "SELECT g.key, s.score FROM generations g JOIN submissions s ON s.key = g.key "
                         "WHERE g.status = 'done' AND s.report IS NOT NULL")
    assert len(done) == 2  # both completions stored before the death were judged, and kept
    assert rows(run_dir, "SELECT COUNT(*) FROM generations WHERE status = 'pending'") == [(2,)]
    resumed = ioi_eval(*args, "--json", cwd=tmp_path, module="tests.fixtures.dying_engine")
    assert resumed.returncode == 0, resumed.stderr
    assert rows(run_dir, "SELECT MAX(judge_count), MIN(judge_count), COUNT(*) FROM submissions") == [(1, 1, 4)]
