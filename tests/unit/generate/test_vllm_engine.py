"""VLLMEngine at its boundary: a fake ``vllm`` module records exactly what the engine asks of vLLM."""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import pytest

from ioi_eval.generate import get_engine
from ioi_eval.generate.base import GenerationRequest, SamplingConfig
from tests.fixtures import fake_vllm_module as fake


def request(i: int, content: str | None = None, seed: int | None = None) -> GenerationRequest:
    return GenerationRequest(key=f"nile/02/{i}", problem="nile", subtask="02", sample=i, seed=seed,
                             messages=[{"role": "system", "content": "Be terse."},
                                       {"role": "user", "content": content or f"solve problem {i}"}])


def calls(name: str) -> list[tuple[Any, ...]]:
    return [c for c in fake.CALLS if c[0] == name]


def engine(**kw: Any) -> Any:
    from ioi_eval.generate.vllm_engine import VLLMEngine

    kw.setdefault("use_tqdm", False)
    return VLLMEngine("org/tiny-model", **kw)


def test_llm_constructed_with_the_options(vllm: types.ModuleType) -> None:
    e = engine(tensor_parallel_size=2, gpu_memory_utilization=0.8, dtype="bfloat16", trust_remote_code=True,
               enable_prefix_caching=True, seed=0)
    assert calls("LLM") == [("LLM", "org/tiny-model", {
        "tensor_parallel_size": 2, "max_model_len": None, "gpu_memory_utilization": 0.8, "dtype": "bfloat16",
        "trust_remote_code": True, "enable_prefix_caching": True, "seed": 0})]
    assert e.max_model_len == fake.DEFAULT_MAX_MODEL_LEN  # read back from the engine's model config
    e.close()


def test_generate_exact_calls_and_budgets(vllm: types.ModuleType) -> None:
    e = engine()
    sampling = SamplingConfig(temperature=0.6, top_p=0.95, max_tokens=None, seed=1000, stop=["</s>"])
    reqs = [request(0, seed=5), request(1), request(2, content="a much longer statement " * 3)]
    out = {c.key: c for c in e.generate(reqs, sampling)}
    assert len(out) == 3

    # chat template rendered by the tokenizer, then encoded without extra special tokens (as LLM.chat does)
    templ = calls("apply_chat_template")
    assert [t[1] for t in templ] == [r.messages for r in reqs]
    assert all(t[2] == {"tokenize": False, "add_generation_prompt": True} for t in templ)
    enc = calls("encode")
    assert all(add_special is False for _, _, add_special in enc)
    lens = [len(enc[i][1].split()) for i in range(3)]

    [gen] = calls("generate")
    _, prompts, params, use_tqdm = gen
    assert use_tqdm is False
    assert [len(p["prompt_token_ids"]) for p in prompts] == lens
    assert [p.kwargs for p in params] == [
        {"n": 1, "temperature": 0.6, "top_p": 0.95, "max_tokens": 64 - lens[i], "seed": seed, "stop": ["</s>"]}
        for i, seed in enumerate([5, 1001, 1002])]  # the request's seed, else base seed + sample index

    c0 = out["nile/02/0"]
    assert c0.text == "answer to 0" and c0.reasoning.startswith("gpus=")
    assert (c0.finish_reason, c0.prompt_tokens, c0.completion_tokens, c0.seed) == ("stop", lens[0], 7, 5)
    assert out["nile/02/2"].text == "answer to statement"
    e.close()


def test_prompt_that_does_not_fit_is_an_error(vllm: types.ModuleType) -> None:
    e = engine(max_model_len=40)
    reqs = [request(0), request(1, content="word " * 40), request(2)]
    out = {c.key: c for c in e.generate(reqs, SamplingConfig())}
    bad = out["nile/02/1"]
    assert bad.failed and "max_model_len 40" in bad.error and bad.prompt_tokens > 40 and bad.text == ""
    assert not out["nile/02/0"].failed and not out["nile/02/2"].failed
    [gen] = calls("generate")
    assert len(gen[1]) == 2  # the misfit was never sent
    assert calls("LLM")[0][2]["max_model_len"] == 40
    e.close()


def test_explicit_max_tokens_is_kept_within_the_context(vllm: types.ModuleType) -> None:
    e = engine()
    list(e.generate([request(0)], SamplingConfig(max_tokens=10)))
    list(e.generate([request(0)], SamplingConfig(max_tokens=10_000)))
    small, large = (c[2][0].kwargs["max_tokens"] for c in calls("generate"))
    n_prompt = len(calls("encode")[0][1].split())
    assert (small, large) == (10, 64 - n_prompt)


def test_truncated_and_prompt_opened_reasoning(vllm: types.ModuleType) -> None:
    def responder(prompt: str, params: Any) -> tuple[str, str, int]:
        if "cut" in prompt:
            return "still thinking about ```cpp int main", "length", params.max_tokens
        return "plan it\n</think>\n```cpp\nint main(){}\n```", "stop", 12

    fake.RESPONDER = responder
    e = engine(chat_template_kwargs={"thinking": True})
    out = {c.key: c for c in e.generate([request(0, content="cut"), request(1, content="ok")], SamplingConfig())}
    assert calls("apply_chat_template")[0][2] == {"tokenize": False, "add_generation_prompt": True, "thinking": True}
    assert (out["nile/02/0"].text, out["nile/02/0"].finish_reason) == ("", "length")
    assert out["nile/02/0"].reasoning == "still thinking about ```cpp int main"
    assert (out["nile/02/1"].reasoning, out["nile/02/1"].text) == ("plan it", "```cpp\nint main(){}\n```")


def test_vllm_reasoning_parser(vllm: types.ModuleType) -> None:
    fake.RESPONDER = lambda prompt, params: ("trace|||<think>kept</think> answer", "stop", 3)
    e = engine(reasoning_parser="bar")
    [c] = e.generate([request(0)], SamplingConfig())
    assert calls("parser") == [("parser", "Tokenizer")]
    assert (c.reasoning, c.text) == ("trace", "<think>kept</think> answer")  # the parser's split, not ours
    with pytest.raises(ValueError, match="unknown vLLM reasoning parser 'nope'"):
        engine(reasoning_parser="nope")


def test_batches(vllm: types.ModuleType) -> None:
    e = engine(batch_size=2)
    keys = [c.key for c in e.generate([request(i) for i in range(5)], SamplingConfig())]
    assert keys == [f"nile/02/{i}" for i in range(5)]
    assert [len(c[1]) for c in calls("generate")] == [2, 2, 1]


def test_missing_vllm_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "vllm", None)  # import vllm -> ImportError
    with pytest.raises(ImportError, match=r"pip install 'ioi-eval\[vllm\]'"):
        engine()


def test_registry(vllm: types.ModuleType) -> None:
    e = get_engine("vllm", "org/tiny-model", max_model_len=32, use_tqdm=False)
    assert e.name == "vllm" and e.max_model_len == 32
    [c] = e.generate([request(0)], SamplingConfig())
    assert not c.failed


def test_built_from_options_with_llm_kwargs(vllm: types.ModuleType) -> None:
    """Options.llm_kwargs reach vllm.LLM as keyword arguments of their own, as the constructor's **llm_kwargs do."""
    from ioi_eval.generate.vllm_engine import Options

    e = get_engine("vllm", "org/tiny-model", Options(max_model_len=64, use_tqdm=False,
                                                     llm_kwargs={"enable_prefix_caching": True}))
    assert calls("LLM") == [("LLM", "org/tiny-model", {
        "tensor_parallel_size": 1, "max_model_len": 64, "gpu_memory_utilization": 0.9, "dtype": "auto",
        "trust_remote_code": False, "enable_prefix_caching": True})]
    assert e.max_model_len == 64 and e.use_tqdm is False
    e.close()


def test_other_llm_arguments_pass_through_after_validation(vllm: types.ModuleType) -> None:
    """An option the engine has no field for is a vllm.LLM argument: checked against LLM's signature and
    EngineArgs, refused by name (with the closest names) before any model loads, else passed on."""
    from ioi_eval.generate.vllm_engine import Options

    options = Options.model_validate({"max_num_seqs": 4, "kv_cache_dtype": "fp8", "max_num_batched_tokens": 8192,
                                      "enforce_eager": True, "revision": "main", "seed": 3, "use_tqdm": False})
    assert options.llm_kwargs == {"max_num_seqs": 4, "kv_cache_dtype": "fp8"}
    assert options.model_dump(exclude_unset=True)["llm_kwargs"] == {"max_num_seqs": 4, "kv_cache_dtype": "fp8"}
    e = get_engine("vllm", "org/tiny-model", options)
    [(_, _, kwargs)] = calls("LLM")
    assert {k: kwargs[k] for k in ("max_num_seqs", "kv_cache_dtype", "max_num_batched_tokens", "enforce_eager",
                                   "revision", "seed")} == {
        "max_num_seqs": 4, "kv_cache_dtype": "fp8", "max_num_batched_tokens": 8192, "enforce_eager": True,
        "revision": "main", "seed": 3}
    e.close()
    vllm_calls_before = len(calls("LLM"))
    with pytest.raises(ValueError, match=r"max_num_seq \(did you mean max_num_seqs"):
        get_engine("vllm", "org/tiny-model", max_num_seq=4)
    with pytest.raises(ValueError, match="no_such_option"):
        get_engine("vllm", "org/tiny-model", no_such_option=1)
    assert len(calls("LLM")) == vllm_calls_before  # refused before any model was loaded
    # options vLLM has its own default for are not passed when not chosen
    get_engine("vllm", "org/tiny-model").close()
    assert not {"revision", "seed", "enforce_eager", "max_num_batched_tokens"} & set(calls("LLM")[-1][2])


def test_cpu_chunked_seed_crash_names_the_workaround(vllm: types.ModuleType) -> None:
    """vLLM's CPU build dies on a seeded request whose prompt it chunks; the error names max_num_batched_tokens.
    Any other engine death (EngineDeadError) is one clear EngineError naming its root cause."""
    from ioi_eval.errors import EngineError
    from tests.fixtures import fake_vllm_module as fake

    class EngineDeadError(Exception):
        pass

    def dies(prompt: str, params: Any) -> tuple[str, str, int]:
        try:
            raise RuntimeError("CPU Generator does not use offset")
        except RuntimeError as e:
            raise EngineDeadError("EngineCore encountered an issue. See stack trace (above)") from e

    fake.RESPONDER = dies
    e = engine()
    with pytest.raises(EngineError, match="max_num_batched_tokens"):
        list(e.generate([request(0, seed=1)], SamplingConfig()))

    def other(prompt: str, params: Any) -> tuple[str, str, int]:
        try:
            raise MemoryError("KV cache full")
        except MemoryError as e:
            raise EngineDeadError("EngineCore encountered an issue.\nSee stack trace") from e

    fake.RESPONDER = other
    with pytest.raises(EngineError) as info:
        list(e.generate([request(1)], SamplingConfig()))
    assert str(info.value) == ("EngineDeadError: EngineCore encountered an issue. "
                               "(caused by MemoryError: KV cache full)")
    e.close()


def test_cpu_build_refuses_a_seeded_prompt_it_would_chunk(vllm: types.ModuleType) -> None:
    """On vLLM's CPU build, a seeded prompt longer than max_num_batched_tokens is refused before vLLM dies on it,
    naming the option; a larger budget lets it through, and so does the GPU build."""
    from ioi_eval.errors import EngineError
    from tests.fixtures import fake_vllm_module as fake

    fake.CPU[0] = True
    long = request(0, content="w " * 40, seed=5)
    e = engine(max_model_len=64, max_num_batched_tokens=16)
    with pytest.raises(EngineError, match=r"nile/02/0: a seeded prompt of \d+ tokens exceeds max_num_batched_tokens 16;"
                                          r".*max_num_batched_tokens="):
        list(e.generate([long], SamplingConfig(max_tokens=4)))
    assert not calls("generate")  # nothing reached vLLM
    [c] = e.generate([request(1, content="w " * 40)], SamplingConfig(max_tokens=4, seed=None))  # unseeded
    assert not c.failed
    e.close()
    e = engine(max_model_len=64, max_num_batched_tokens=64)
    [c] = e.generate([long], SamplingConfig(max_tokens=4))
    assert not c.failed
    e.close()
    fake.CPU[0] = False
    e = engine(max_model_len=64, max_num_batched_tokens=16)
    [c] = e.generate([long], SamplingConfig(max_tokens=4))
    assert not c.failed
    e.close()


def test_data_parallel_replicas(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two replicas of two GPUs each, in worker processes that import the fake through sys.path."""
    pkg = tmp_path / "vllm"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from tests.fixtures.fake_vllm_module import LLM, EngineArgs, SamplingParams\n")
    (pkg / "reasoning.py").write_text("from tests.fixtures.fake_vllm_module import ReasoningParserManager\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "vllm", raising=False)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "4,5,6,7")
    e = engine(data_parallel_size=2, tensor_parallel_size=2)
    try:
        assert e.max_model_len == fake.DEFAULT_MAX_MODEL_LEN
        for _ in range(2):  # the replicas stay loaded between calls
            out = {c.key: c for c in e.generate([request(i) for i in range(5)], SamplingConfig())}
            assert sorted(out) == [f"nile/02/{i}" for i in range(5)]
            gpus = {k: c.reasoning.split()[0] for k, c in out.items()}
            assert gpus == {f"nile/02/{i}": "gpus=4,5" if i % 2 == 0 else "gpus=6,7" for i in range(5)}
            pids = {c.reasoning.split()[1] for c in out.values()}
            assert len(pids) == 2
            assert all(c.text == f"answer to {i}" for i, c in enumerate(out[f"nile/02/{j}"] for j in range(5)))
        workers = [w.process for w in e._workers]
    finally:
        e.close()
    assert all(not p.is_alive() for p in workers)


def test_data_parallel_needs_enough_gpus(vllm: types.ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    with pytest.raises(ValueError, match="needs 4 GPUs"):
        engine(data_parallel_size=2, tensor_parallel_size=2)
