"""ReplayEngine: recorded completions served from JSONL, saved datasets, Parquet and JSON."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from ioi_eval.generate import get_engine
from ioi_eval.generate.base import GenerationRequest, SamplingConfig
from ioi_eval.generate.replay import ReplayEngine, norm_problem, parse_hf_source

SAMPLING = SamplingConfig()
CODE = "#include <vector>\nint f() { return 1; }"


def req(problem: str, subtask: str | None, sample: int, key: str | None = None) -> GenerationRequest:
    return GenerationRequest(key=key or f"{problem}/{subtask}/{sample}", problem=problem, subtask=subtask,
                             sample=sample, messages=[{"role": "user", "content": "solve"}], seed=100 + sample)


def run(engine: ReplayEngine, requests: list[GenerationRequest]) -> dict[str, Any]:
    out = {c.key: c for c in engine.generate(requests, SAMPLING)}
    assert len(out) == len(requests)
    return out


OURS = [
    {"key": "nile/01-equal/0", "text": "```cpp\nA\n```", "reasoning": "thought", "finish_reason": "stop",
     "prompt_tokens": 10, "completion_tokens": 20, "seed": 7},
    {"key": "nile/01-equal/1", "generation": "<think>hmm</think>```cpp\nB\n```", "finish_reason": "length"},
    {"key": "nile/01-equal/2", "text": "", "error": "HTTP 500 after 7 attempts"},
]

OPEN_R1 = [  # open-r1 / ioi-leaderboard layout: no key; problem_id, target_subtask, solution_number
    {"problem_id": "nile", "target_subtask": "02-permutation", "solution_number": 1,
     "generation": "<think>long trace</think>\nHere:\n```cpp\nC1\n```", "code": "C1", "language": "cpp",
     "model_kwargs": {"seed": 43}, "metadata": {"usage": {"prompt_tokens": 111, "completion_tokens": 222},
                                                 "stop_reason": "stop"}},
    {"problem_id": "nile", "target_subtask": "02-permutation", "solution_number": 0,
     "generation": "", "code": CODE, "language": "cpp",
     "model_kwargs": {"seed": 42}, "metadata": {"usage": {"input_tokens": 5, "output_tokens": 6},
                                                 "stop_reason": "max_tokens"}},
    {"problem_id": "IOI2024_Message", "subtask": "01-len64", "solution_number": 3, "generation": "msg answer",
     "code": "", "metadata": {"completion_tokens": 9, "prompt_tokens": 8}, "finish_reason": "stop"},
]


def uniform(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with one schema, as a real dataset has: every key of any row (nested too), null where absent."""
    def keys(values: list[Any]) -> dict[str, Any]:
        shape: dict[str, Any] = {}
        for v in values:
            if isinstance(v, dict):
                for k in v:
                    shape.setdefault(k, [])
                    shape[k].append(v[k])
        return shape

    def fill(value: Any, shape: dict[str, list[Any]]) -> Any:
        if not shape:
            return value
        value = value if isinstance(value, dict) else {}
        return {k: fill(value.get(k), keys(vs)) for k, vs in shape.items()}

    top = keys(rows)
    return [fill(r, top) for r in rows]


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_jsonl_ours(tmp_path: Path) -> None:
    engine = ReplayEngine(write_jsonl(tmp_path / "c.jsonl", OURS))
    out = run(engine, [req("nile", "01-equal", i) for i in range(3)])
    first = out["nile/01-equal/0"]
    assert (first.text, first.reasoning, first.finish_reason) == ("```cpp\nA\n```", "thought", "stop")
    assert (first.prompt_tokens, first.completion_tokens, first.seed) == (10, 20, 7)
    second = out["nile/01-equal/1"]  # "generation" with a think block, no reasoning column: split here
    assert (second.text, second.reasoning, second.finish_reason) == ("```cpp\nB\n```", "hmm", "length")
    assert second.seed == 101  # no recorded seed: the request's
    third = out["nile/01-equal/2"]  # a recorded failure stays a failure
    assert third.failed and "HTTP 500" in third.error


def test_missing_rows_are_errors_not_empty_answers(tmp_path: Path) -> None:
    engine = ReplayEngine(write_jsonl(tmp_path / "c.jsonl", OURS))
    out = run(engine, [req("nile", "01-equal", 0), req("nile", "01-equal", 9), req("tree", None, 0)])
    assert not out["nile/01-equal/0"].failed
    for key in ("nile/01-equal/9", "tree/None/0"):
        assert out[key].failed
        assert out[key].error == f"no recorded completion for {key}"
        assert out[key].text == ""


def test_open_r1_layout_matching(tmp_path: Path) -> None:
    engine = ReplayEngine(write_jsonl(tmp_path / "r1.jsonl", OPEN_R1))
    out = run(engine, [req("nile", "02-permutation", 0), req("nile", "02-permutation", 1),
                       req("message", "01-len64", 3), req("nile", "02-permutation", 2)])
    s1 = out["nile/02-permutation/1"]
    assert s1.text == "Here:\n```cpp\nC1\n```" and s1.reasoning == "long trace"
    assert (s1.prompt_tokens, s1.completion_tokens, s1.seed, s1.finish_reason) == (111, 222, 43, "stop")
    s0 = out["nile/02-permutation/0"]  # code only: a fenced block of it
    assert s0.text == f"```cpp\n{CODE}\n```\n"
    assert (s0.prompt_tokens, s0.completion_tokens, s0.seed, s0.finish_reason) == (5, 6, 42, "length")
    msg = out["message/01-len64/3"]  # "IOI2024_Message" matches "message"; "subtask" column, flat metadata
    assert (msg.text, msg.prompt_tokens, msg.completion_tokens) == ("msg answer", 8, 9)
    assert out["nile/02-permutation/2"].failed


def test_prefer_code_answers_with_the_published_code(tmp_path: Path) -> None:
    engine = ReplayEngine(write_jsonl(tmp_path / "r1.jsonl", OPEN_R1), prefer_code=True)
    out = run(engine, [req("nile", "02-permutation", 1)])
    assert out["nile/02-permutation/1"].text == "```cpp\nC1\n```\n"


def test_rows_without_sample_index_are_numbered_in_order() -> None:
    rows = [{"problem_id": "tree", "target_subtask": "01", "generation": f"answer {i}"} for i in range(3)]
    rows.insert(1, {"problem_id": "tree", "target_subtask": "02", "generation": "other subtask"})
    engine = ReplayEngine(rows=rows)
    out = run(engine, [req("tree", "01", i) for i in range(3)] + [req("tree", "02", 0)])
    assert [out[f"tree/01/{i}"].text for i in range(3)] == ["answer 0", "answer 1", "answer 2"]
    assert out["tree/02/0"].text == "other subtask"


def test_key_wins_over_tuple() -> None:
    rows = [{"key": "k-special", "problem": "nile", "subtask": "x", "sample": 0, "text": "by key"},
            {"problem": "nile", "subtask": "x", "sample": 5, "text": "by tuple"}]
    engine = ReplayEngine(rows=rows)
    out = run(engine, [req("nile", "x", 5, key="k-special"), req("nile", "x", 5)])
    assert out["k-special"].text == "by key"
    assert out["nile/x/5"].text == "by tuple"


def test_saved_dataset(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    ds = datasets.Dataset.from_list(uniform(OPEN_R1))  # nested metadata/model_kwargs become struct columns
    ds.save_to_disk(str(tmp_path / "saved"))
    engine = ReplayEngine(tmp_path / "saved")
    assert len(engine) == 3
    out = run(engine, [req("nile", "02-permutation", 1), req("nile", "02-permutation", 0),
                       req("message", "01-len64", 3)])
    assert out["message/01-len64/3"].text == "msg answer"
    assert out["message/01-len64/3"].prompt_tokens == 8
    assert out["nile/02-permutation/1"].text == "Here:\n```cpp\nC1\n```"
    assert out["nile/02-permutation/1"].completion_tokens == 222
    assert out["nile/02-permutation/0"].seed == 42


def test_saved_dataset_dict_splits(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    dd = datasets.DatasetDict({
        "train": datasets.Dataset.from_list([{"key": "a", "text": "from train"}]),
        "test": datasets.Dataset.from_list([{"key": "b", "text": "from test"}]),
    })
    dd.save_to_disk(str(tmp_path / "dd"))
    both = run(ReplayEngine(str(tmp_path / "dd")), [req("p", None, 0, key="a"), req("p", None, 1, key="b")])
    assert (both["a"].text, both["b"].text) == ("from train", "from test")
    only = run(ReplayEngine(tmp_path / "dd", split="test"), [req("p", None, 0, key="a"), req("p", None, 1, key="b")])
    assert only["a"].failed and only["b"].text == "from test"
    with pytest.raises(ValueError, match="split 'dev'"):
        ReplayEngine(tmp_path / "dd", split="dev")


def test_parquet(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(uniform(OPEN_R1)), tmp_path / "train-00000-of-00001.parquet")
    engine = ReplayEngine(tmp_path / "train-00000-of-00001.parquet")
    out = run(engine, [req("nile", "02-permutation", 0), req("message", "01-len64", 3)])
    assert out["nile/02-permutation/0"].text == f"```cpp\n{CODE}\n```\n"
    assert out["message/01-len64/3"].text == "msg answer"
    assert out["nile/02-permutation/0"].prompt_tokens == 5  # input_tokens, the prompt_tokens column null
    # a folder of data files (as in a Hub repo snapshot) reads them all
    folder = run(ReplayEngine(tmp_path), [req("nile", "02-permutation", 1)])
    assert folder["nile/02-permutation/1"].seed == 43


def test_json_and_gzip(tmp_path: Path) -> None:
    (tmp_path / "list.json").write_text(json.dumps(OURS))
    (tmp_path / "wrapped.json").write_text(json.dumps({"rows": OPEN_R1}))
    with gzip.open(tmp_path / "c.jsonl.gz", "wt") as f:
        f.writelines(json.dumps(r) + "\n" for r in OURS)
    assert run(ReplayEngine(tmp_path / "list.json"), [req("nile", "01-equal", 0)])["nile/01-equal/0"].text
    assert run(ReplayEngine(tmp_path / "wrapped.json"), [req("message", "01-len64", 3)])["message/01-len64/3"].text
    assert run(ReplayEngine(tmp_path / "c.jsonl.gz"), [req("nile", "01-equal", 1)])["nile/01-equal/1"].reasoning


def test_hf_source_via_load_dataset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    datasets = pytest.importorskip("datasets")
    calls = []

    def fake_load_dataset(repo: str, config: str | None = None, split: str | None = None) -> Any:
        calls.append((repo, config, split))
        return datasets.Dataset.from_list(uniform(OPEN_R1))

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    engine = ReplayEngine("hf:open-r1/ioi-2024-model-solutions:deepseek-ai_DeepSeek-R1@train")
    assert calls == [("open-r1/ioi-2024-model-solutions", "deepseek-ai_DeepSeek-R1", "train")]
    assert run(engine, [req("nile", "02-permutation", 1)])["nile/02-permutation/1"].seed == 43


def test_hf_source_from_a_local_dataset_script_free_repo(tmp_path: Path) -> None:
    """load_dataset on a local folder of JSONL files (what a Hub snapshot in the cache looks like)."""
    pytest.importorskip("datasets")
    repo = tmp_path / "repo"
    (repo / "data").mkdir(parents=True)
    write_jsonl(repo / "data" / "train.jsonl", OURS[:2])
    engine = ReplayEngine(f"hf:{repo}@train")
    assert run(engine, [req("nile", "01-equal", 0)])["nile/01-equal/0"].reasoning == "thought"


def test_parse_hf_source() -> None:
    assert parse_hf_source("hf:org/name") == ("org/name", None, None)
    assert parse_hf_source("hf:org/name:cfg") == ("org/name", "cfg", None)
    assert parse_hf_source("hf:org/name@test") == ("org/name", None, "test")
    assert parse_hf_source("hf:org/name:cfg@test") == ("org/name", "cfg", "test")
    with pytest.raises(ValueError):
        parse_hf_source("hf:")


def test_norm_problem() -> None:
    assert norm_problem("IOI2024_Nile") == norm_problem("nile") == "nile"
    assert norm_problem("2024_day1_hieroglyphs") == "hieroglyphs"
    assert norm_problem("sphinx") == "sphinx"


def test_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        ReplayEngine(tmp_path / "nope.jsonl")
    (tmp_path / "bad.jsonl").write_text('{"key": "a"}\nnot json\n')
    with pytest.raises(ValueError, match=r"bad\.jsonl:2"):
        ReplayEngine(tmp_path / "bad.jsonl")
    (tmp_path / "x.txt").write_text("")
    with pytest.raises(ValueError, match="unknown replay file type"):
        ReplayEngine(tmp_path / "x.txt")


def test_registry_builds_replay(tmp_path: Path) -> None:
    engine = get_engine("replay", str(write_jsonl(tmp_path / "c.jsonl", OURS)))
    assert engine.name == "replay"
    assert next(iter(engine.generate([req("nile", "01-equal", 0)], SAMPLING))).text == "```cpp\nA\n```"
    engine.close()
