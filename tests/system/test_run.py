"""``ioi-eval run`` end to end on the bundled problems: reference, replay, a local OpenAI-compatible
server as the model, malformed completions, server errors, and kill-and-resume."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from tests.conftest import PROBLEMS

RAINFALL_OK = (PROBLEMS / "rainfall" / "solutions" / "model_solution" / "rainfall.cpp").read_text()
RAINFALL_OVERFLOW = (PROBLEMS / "rainfall" / "solutions" / "incorrect" / "rainfall_int.cpp").read_text()
RAINFALL_TLE = (PROBLEMS / "rainfall" / "solutions" / "time_limit" / "rainfall_naive.cpp").read_text()


def cli(*args: str, cwd: Path, timeout: int = 600, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ioi_eval.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "COLUMNS": "200", **(env or {})})


def db_rows(run_dir: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(run_dir / "run.sqlite") as db:
        return db.execute(sql).fetchall()


def test_reference_run_and_resume(tmp_path: Path) -> None:
    run_dir = tmp_path / "ref"
    res = cli("run", "--model", "reference", "--problems", str(PROBLEMS), "--run-dir", str(run_dir), "--json",
              cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    score = json.loads(res.stdout)
    assert score["total"] == score["max_total"] == 100 * len(score["problems"])
    assert {p["problem"] for p in score["problems"]} >= {"rainfall", "towers", "summit", "relay", "dominoes"}
    again = cli("run", "--model", "reference", "--problems", str(PROBLEMS), "--run-dir", str(run_dir), "--json",
                cwd=tmp_path)
    assert again.returncode == 0 and json.loads(again.stdout)["total"] == score["total"]
    assert db_rows(run_dir, "SELECT MAX(judge_count), MIN(judge_count) FROM submissions") == [(1, 1)]
    assert (run_dir / "summary.json").is_file()


def _fence(code: str, tag: str = "cpp") -> str:
    return f"Here is my solution.\n```{tag}\n{code}\n```\n"


def test_replay_with_malformed_completions(tmp_path: Path) -> None:
    rows = [
        {"key": "rainfall/01-small/0", "text": _fence(RAINFALL_OVERFLOW)},
        {"key": "rainfall/01-small/1", "text": "I could not solve it."},  # no code
        {"key": "rainfall/02-medium/0", "text": "<think>long thoughts" + "x" * 1000},  # truncated reasoning
        {"key": "rainfall/02-medium/1", "text": "\x00\xff garbage ```cpp\nint main( {\n```"},  # CE
        {"key": "rainfall/04-full/0", "text": _fence(RAINFALL_OK, "c++")},
        # 03-small-values and 04-full/1 are missing from the replay: failed generations
    ]
    src = tmp_path / "replay.jsonl"
    src.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    run_dir = tmp_path / "replay"
    res = cli("run", "--model", str(src), "--engine", "replay", "--problems", str(PROBLEMS), "--only", "rainfall",
              "--samples", "2", "--run-dir", str(run_dir), "--json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    p = json.loads(res.stdout)["problems"][0]
    assert p["score"] == 100  # the full solution for 04-full solves every subtask
    assert p["no_code"] == 2 and p["failed_generations"] == 3
    statuses = dict(db_rows(run_dir, "SELECT key, extraction FROM submissions"))
    assert statuses["rainfall/01-small/1"] == "no_code" and statuses["rainfall/02-medium/0"] == "no_code"
    assert "failed for good" in res.stderr


class _Model(BaseHTTPRequestHandler):
    """A fake OpenAI-compatible chat server: answers rainfall prompts with a fixed solution."""

    answer = RAINFALL_OK
    delay = 0.0
    fail_first: ClassVar[dict[str, int]] = {}
    lock = threading.Lock()
    served = 0

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        cls = type(self)
        time.sleep(cls.delay)
        key = f"{body.get('seed')}"
        with cls.lock:
            left = cls.fail_first.get(key, 0)
            if left:
                cls.fail_first[key] = left - 1
        if left:
            self.send_response(500)
            self.end_headers()
            self.wfile.write(b'{"error": "overloaded"}')
            return
        with cls.lock:
            cls.served += 1
        out = {"id": "x", "object": "chat.completion", "model": body["model"],
               "choices": [{"index": 0, "finish_reason": "stop",
                            "message": {"role": "assistant", "content": _fence(cls.answer),
                                        "reasoning_content": "thinking..."}}],
               "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150}}
        data = json.dumps(out).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def model_server() -> Iterator[tuple[str, type[_Model]]]:
    handler = type("Handler", (_Model,), {"fail_first": {}, "served": 0, "delay": 0.0, "lock": threading.Lock()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1", handler
    server.shutdown()


def test_openai_engine_with_server_errors(tmp_path: Path, model_server) -> None:
    url, handler = model_server
    handler.fail_first = {"0": 2}  # the seed-0 requests fail twice with 500, then succeed
    run_dir = tmp_path / "oa"
    res = cli("run", "--model", "fake-model", "--engine", "openai", "--base-url", url, "--problems", str(PROBLEMS),
              "--only", "rainfall", "--samples", "2", "--run-dir", str(run_dir), "--json", cwd=tmp_path,
              env={"OPENAI_API_KEY": "test-key"})
    assert res.returncode == 0, res.stderr
    p = json.loads(res.stdout)["problems"][0]
    assert p["score"] == 100 and p["failed_generations"] == 0 and p["generations"] == 8
    reasoning = db_rows(run_dir, "SELECT DISTINCT reasoning, prompt_tokens FROM generations")
    assert reasoning == [("thinking...", 100)]
    config = json.loads(db_rows(run_dir, "SELECT value FROM meta WHERE key='config'")[0][0])
    assert "test-key" not in json.dumps(config)


def test_changed_config_is_refused(tmp_path: Path) -> None:
    run_dir = tmp_path / "ref"
    args = ["run", "--model", "reference", "--problems", str(PROBLEMS), "--only", "pairsum", "--run-dir",
            str(run_dir)]
    assert cli(*args, cwd=tmp_path).returncode == 0
    res = cli(*args, "--samples", "3", cwd=tmp_path)
    assert res.returncode == 2 and "another configuration" in res.stderr and "samples" in res.stderr
    res = cli(*args, "--samples", "3", "--new-run", cwd=tmp_path)
    assert res.returncode == 0, res.stderr


def _start(args: list[str], cwd: Path, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "ioi_eval.cli", *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **env})


@pytest.mark.parametrize("phase", ["generation", "judging"])
def test_kill_and_resume(tmp_path: Path, model_server, phase: str) -> None:
    """SIGKILL mid-generation or mid-judging, resume: identical scores, nothing judged twice."""
    url, handler = model_server
    handler.answer = RAINFALL_OK if phase == "generation" else RAINFALL_TLE
    handler.delay = 0.3 if phase == "generation" else 0.0
    args = ["run", "--model", "fake", "--engine", "openai", "--base-url", url, "--concurrency", "1",
            "--problems", str(PROBLEMS), "--only", "rainfall", "--samples", "2", "--json"]
    env = {"OPENAI_API_KEY": "k"}
    killed_dir = tmp_path / "killed"
    proc = _start([*args, "--run-dir", str(killed_dir)], tmp_path, env)
    deadline = time.time() + 120
    while time.time() < deadline:  # wait until the run is in the phase we want to interrupt
        time.sleep(0.2)
        if not (killed_dir / "run.sqlite").exists():
            continue
        try:
            done = db_rows(killed_dir, "SELECT COUNT(*) FROM generations WHERE status='done'")[0][0]
            judged = db_rows(killed_dir, "SELECT COUNT(*) FROM submissions WHERE report IS NOT NULL")[0][0]
        except sqlite3.OperationalError:
            continue
        if (phase == "generation" and done >= 2) or (phase == "judging" and done == 8 and judged >= 1):
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    done = db_rows(killed_dir, "SELECT COUNT(*) FROM generations WHERE status='done'")[0][0]
    judged = db_rows(killed_dir, "SELECT COUNT(*) FROM submissions WHERE report IS NOT NULL")[0][0]
    assert (done < 8) if phase == "generation" else (judged < 8), (done, judged)
    served_before = handler.served
    resumed = cli(*args, "--run-dir", str(killed_dir), cwd=tmp_path, env=env)
    assert resumed.returncode == 0, resumed.stderr
    # finished generations were not requested again (the one in flight at the kill may be)
    assert 8 - done <= handler.served - served_before <= 8 - done + 1
    clean = cli(*args, "--run-dir", str(tmp_path / "clean"), cwd=tmp_path, env=env)
    assert clean.returncode == 0, clean.stderr
    a, b = json.loads(resumed.stdout), json.loads(clean.stdout)
    assert a["total"] == b["total"] and a["problems"][0]["subtasks"] == b["problems"][0]["subtasks"]
    assert db_rows(killed_dir, "SELECT MAX(judge_count), MIN(judge_count) FROM submissions") == [(1, 1)]


def test_malformed_replay_source_is_a_clear_error(tmp_path: Path) -> None:
    src = tmp_path / "bad.jsonl"
    src.write_text('{"key": "rainfall/01-small/0", "text": "x"}\n{not json\n')
    res = cli("run", "--model", str(src), "--engine", "replay", "--problems", str(PROBLEMS), "--only", "rainfall",
              "--samples", "1", "--run-dir", str(tmp_path / "r"), cwd=tmp_path)
    assert res.returncode == 2 and "bad.jsonl:2" in res.stderr and "Traceback" not in res.stderr, res.stderr
    missing = cli("run", "--model", str(tmp_path / "nope.jsonl"), "--engine", "replay", "--problems", str(PROBLEMS),
                  "--only", "rainfall", "--samples", "1", "--run-dir", str(tmp_path / "r2"), cwd=tmp_path)
    assert missing.returncode == 2 and "nope.jsonl" in missing.stderr and "Traceback" not in missing.stderr


def test_codeforces_scores_leave_out_samples_not_extracted_yet(tmp_path: Path) -> None:
    """A finished generation whose code is not extracted yet (a run stopped between the two writes) is
    judged on resume: its Codeforces scores leave it out, as they leave out those not judged yet."""
    from ioi_eval.generate.base import Completion, GenerationRequest
    from ioi_eval.record.store import RunStore
    from ioi_eval.scoring.run_score import score_run
    from ioi_eval.sources.loader import load_problem

    problem = load_problem(PROBLEMS / "rainfall").model_copy(update={"scoring": "codeforces"})
    store = RunStore(tmp_path / "run.sqlite")
    keys = [f"rainfall/-/{i}" for i in range(3)]
    store.add_requests(GenerationRequest(key=k, problem="rainfall", sample=i, messages=[]) for i, k in enumerate(keys))
    for k in keys:
        store.save_completion(Completion(key=k, text="..."))
    store.save_extraction(keys[0], None, "no_code")  # a failed sample
    store.save_extraction(keys[1], "int main() {}", "ok")  # not judged yet: left out
    cf = score_run(store, {"rainfall": problem}, "m").problems[0].codeforces  # keys[2]: not extracted yet
    store.close()
    assert cf is not None and cf.n == 1 and cf.c == 0
