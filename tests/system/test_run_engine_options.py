"""``ioi-eval run`` with engine options from ``--model-args`` and ``--config``, ``--system-prompt``, ``--model-name``
and several ``--base-url`` servers, through the real CLI against real HTTP servers on 127.0.0.1."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.conftest import PROBLEMS
from tests.fixtures.fake_openai_server import FakeServer, code_reply, serve
from tests.system.test_run import cli

RAINFALL_OK = (PROBLEMS / "rainfall" / "solutions" / "model_solution" / "rainfall.cpp").read_text()


_solve = code_reply(RAINFALL_OK)


@pytest.fixture
def servers() -> Iterator[list[FakeServer]]:
    with ExitStack() as stack:
        found = [stack.enter_context(serve()) for _ in range(2)]
        for s in found:
            s.script = _solve
            s.models = ["Qwen/Qwen3-8B"]
        yield found


def test_config_file_model_args_and_flags(tmp_path: Path, servers: list[FakeServer]) -> None:
    """The file sets the run; --model-args and flags win over it; every option reaches the server; the run folder
    keeps the organisation of --model-name; the key is not stored."""
    (tmp_path / "run.yaml").write_text(
        f"engine: openai\nbase_url: [{servers[0].url}, {servers[1].url}]\nproblems: {PROBLEMS}\n"
        "only: [rainfall]\nsamples: 5\nper: problem\nsystem_prompt: From the file.\n"
        "model_args:\n  concurrency: 2\n  timeout: 30\n  extra_body: {top_k: 20}\n  headers: {X-Team: file}\n")
    res = cli("run", "--config", "run.yaml", "--model", "Qwen/Qwen3-8B", "--model-name", "Qwen/Qwen3-8B-think",
              "--samples", "2", "--system-prompt", "Answer in C++.",
              "--model-args", 'chat_template_kwargs={"enable_thinking":true},headers={"X-Team":"flag"}', "--json",
              cwd=tmp_path, env={"OPENAI_API_KEY": "sk-secret"})
    assert res.returncode == 0, res.stderr
    score = json.loads(res.stdout)
    assert score["model"] == "Qwen/Qwen3-8B-think" and score["problems"][0]["score"] == 100
    run_dir = tmp_path / "runs" / f"Qwen--Qwen3-8B-think-{PROBLEMS.name}"
    assert (run_dir / "summary.json").is_file()
    seen = [s for server in servers for s in server.seen]
    assert len(seen) == 2 and all(server.seen for server in servers)  # two samples, one on each server
    for s in seen:
        assert s.body["messages"][0] == {"role": "system", "content": "Answer in C++."}
        assert s.body["top_k"] == 20 and s.body["chat_template_kwargs"] == {"enable_thinking": True}
        assert s.headers["x-team"] == "flag" and s.headers["authorization"] == "Bearer sk-secret"
    with sqlite3.connect(run_dir / "run.sqlite") as db:
        config = json.loads(db.execute("SELECT value FROM meta WHERE key='config'").fetchone()[0])
    assert config["model"] == "Qwen/Qwen3-8B" and config["model_name"] == "Qwen/Qwen3-8B-think"
    assert config["system_prompt"] == "Answer in C++." and config["samples"] == 2 and config["per"] == "problem"
    assert config["engine_options"]["base_url"] == [s.url for s in servers]
    assert config["engine_options"]["timeout_s"] == 30 and config["engine_options"]["concurrency"] == 2
    assert "sk-secret" not in json.dumps(config) and "sk-secret" not in (run_dir / "summary.json").read_text()


@pytest.mark.parametrize(("args", "message"), [
    (["--model-args", "tensor_parallel_size=2"], r"tensor_parallel_size: unknown option \(got 2\)"),
    (["--model-args", "extra_body={top_k: 2}"], "extra_body=.* is not valid JSON"),
    (["--config", "missing.yaml"], "missing.yaml: cannot read the run config"),
])
def test_bad_engine_options_are_one_line_errors(tmp_path: Path, servers: list[FakeServer], args: list[str],
                                                message: str) -> None:
    res = cli("run", "--model", "Qwen/Qwen3-8B", "--engine", "openai", "--base-url", servers[0].url, "--problems",
              str(PROBLEMS), "--only", "rainfall", *args, cwd=tmp_path)
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "Traceback" not in res.stderr
    assert re.search(message, lines[0]), lines[0]
    assert not (tmp_path / "runs").exists()  # nothing started


def test_replay_takes_the_model_name_from_its_rows(tmp_path: Path) -> None:
    rows = [{"problem_id": "rainfall", "subtask": "04-full", "model": "deepseek-ai/DeepSeek-R1",
             "generation": f"```cpp\n{RAINFALL_OK}\n```"}]
    (tmp_path / "gens.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    res = cli("run", "--model", "gens.jsonl", "--engine", "replay", "--problems", str(PROBLEMS), "--only",
              "rainfall", "--samples", "1", "--json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["model"] == "deepseek-ai/DeepSeek-R1"
    assert (tmp_path / "runs" / f"deepseek-ai--DeepSeek-R1-{PROBLEMS.name}" / "summary.json").is_file()
    # --model-name wins over the rows
    res = cli("run", "--model", "gens.jsonl", "--engine", "replay", "--model-name", "mine", "--problems",
              str(PROBLEMS), "--only", "rainfall", "--samples", "1", "--json", cwd=tmp_path)
    assert res.returncode == 0 and json.loads(res.stdout)["model"] == "mine"
    assert (tmp_path / "runs" / f"mine-{PROBLEMS.name}").is_dir()


def test_the_model_may_come_from_the_config_file(tmp_path: Path) -> None:
    rows = [{"problem_id": "rainfall", "subtask": "04-full", "generation": f"```cpp\n{RAINFALL_OK}\n```"}]
    (tmp_path / "gens.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    (tmp_path / "run.yaml").write_text(f"model: gens.jsonl\nengine: replay\nproblems: {PROBLEMS}\nonly: rainfall\n"
                                       "samples: 1\nmodel_name: org/from-file\n")
    res = cli("run", "--config", "run.yaml", "--json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["model"] == "org/from-file"
    res = cli("run", "--problems", str(PROBLEMS), cwd=tmp_path)
    assert res.returncode == 2 and res.stderr.strip() == (
        "error: --model is required (on the command line, or as model: in the --config file)")
