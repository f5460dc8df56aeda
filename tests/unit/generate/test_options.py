"""Each engine's Options: its defaults are the engine's own, unknown fields are refused, and the registry
validates options into the right model."""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from ioi_eval.generate import ENGINE_NAMES, engine_class, engine_options, get_engine, options_class
from ioi_eval.generate.base import GenerationRequest, SamplingConfig

#: Every engine's options with their defaults, written out (a changed default must be a deliberate change).
DEFAULTS: dict[str, dict[str, Any]] = {
    "vllm": {"tensor_parallel_size": 1, "data_parallel_size": 1, "max_model_len": None,
             "gpu_memory_utilization": 0.9, "dtype": "auto", "reasoning_parser": None, "trust_remote_code": False,
             "chat_template_kwargs": None, "batch_size": None, "use_tqdm": True, "revision": None,
             "max_num_batched_tokens": None, "enforce_eager": None, "seed": None, "llm_kwargs": {}},
    "openai": {"base_url": None, "api_key": None, "mode": "chat", "concurrency": 8, "max_retries": 6,
               "timeout_s": 600, "extra_body": None, "backoff_base_s": 1.0, "backoff_max_s": 60.0,
               "retry_after_max_s": 600.0, "headers": None, "revive_after_s": 30.0},
    "transformers": {"device": "auto", "dtype": None, "batch_size": 4, "trust_remote_code": False,
                     "revision": None},
    "replay": {"split": None, "prefer_code": False},
    "reference": {},
}

#: Constructor parameters that are no option: the model (or replay source), in-memory rows, vLLM's pass-through.
NOT_OPTIONS = {"self", "model", "source", "rows", "llm_kwargs"}


def test_every_engine_is_covered() -> None:
    assert set(DEFAULTS) == set(ENGINE_NAMES)


@pytest.mark.parametrize("name", ENGINE_NAMES)
def test_defaults(name: str) -> None:
    options = options_class(name)()
    assert options.model_dump() == DEFAULTS[name]
    assert options.model_dump(exclude_unset=True) == {}  # nothing chosen: a run records nothing


@pytest.mark.parametrize("name", ENGINE_NAMES)
def test_defaults_are_the_constructors(name: str) -> None:
    """Options and the engine's keyword constructor agree, field for field and default for default."""
    params = {p.name: p.default for p in inspect.signature(engine_class(name).__init__).parameters.values()
              if p.name not in NOT_OPTIONS and p.kind is not inspect.Parameter.VAR_KEYWORD}
    fields = {k: v for k, v in DEFAULTS[name].items() if k != "llm_kwargs"}
    assert params == fields


@pytest.mark.parametrize("name", [n for n in ENGINE_NAMES if n != "vllm"])  # vllm passes them on to vllm.LLM
def test_unknown_fields_are_refused(name: str) -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        options_class(name)(no_such_option=1)
    with pytest.raises(ValueError, match="no_such_option"):
        get_engine(name, "m", no_such_option=1)


def test_options_of_another_engine_are_refused() -> None:
    """A flag that only vllm has does not pass for openai."""
    with pytest.raises(ValidationError, match="tensor_parallel_size"):
        options_class("openai")(tensor_parallel_size=2)


def test_bad_values_are_refused() -> None:
    with pytest.raises(ValidationError, match="concurrency"):
        options_class("openai")(concurrency="many")
    with pytest.raises(ValidationError, match="mode"):
        options_class("openai")(mode="edits")


def test_openai_takes_the_command_line_name_for_mode() -> None:
    cls = options_class("openai")
    options = cls.model_validate({"base_url": "http://h", "api_mode": "completions"})
    assert options.mode == "completions"
    assert options.model_dump(exclude_unset=True) == {"base_url": "http://h", "mode": "completions"}
    assert cls(mode="completions").mode == "completions"
    assert cls.required_on_cli == ("base_url",)


def test_engine_options_validates_into_the_engines_model() -> None:
    vllm = engine_options("vllm", {"max_model_len": None}, tensor_parallel_size=2)
    assert type(vllm) is options_class("vllm")
    assert vllm.model_dump(exclude_unset=True) == {"max_model_len": None, "tensor_parallel_size": 2}
    assert engine_options("vllm", vllm) is vllm
    assert engine_options("hf").device == "auto"  # aliases name the same engine
    same = engine_options("vllm", vllm, data_parallel_size=3)
    assert same.model_dump(exclude_unset=True) == {"max_model_len": None, "tensor_parallel_size": 2,
                                                   "data_parallel_size": 3}
    with pytest.raises(ValueError, match="unknown engine 'tgi'"):
        engine_options("tgi")


def test_replay_is_built_from_its_options(tmp_path: Path) -> None:
    """from_options hands every option to the engine: prefer_code answers with the row's code."""
    src = tmp_path / "c.jsonl"
    src.write_text(json.dumps({"key": "p/s/0", "generation": "thinking, then prose", "code": "int main(){}",
                               "language": "cpp"}) + "\n")
    req = GenerationRequest(key="p/s/0", problem="p", subtask="s", messages=[])
    plain = get_engine("replay", str(src))
    coded = get_engine("replay", str(src), options_class("replay")(prefer_code=True))
    [a] = plain.generate([req], SamplingConfig())
    [b] = coded.generate([req], SamplingConfig())
    assert "int main" not in a.text and b.text == "```cpp\nint main(){}\n```\n"
