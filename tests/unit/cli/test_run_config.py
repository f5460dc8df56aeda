"""``--model-args`` (lighteval's syntax) and ``--config run.yaml``: parsed, merged (flags win), refused clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from ioi_eval.cli.common import Language
from ioi_eval.cli.options import RUN_OPTIONS, Engine, evaluate_kwargs, merge_config_file
from ioi_eval.cli.run_config import parse_model_args
from ioi_eval.errors import IoiEvalError


def _values(**over):
    values = {name: p.default for name, p in RUN_OPTIONS.items()}
    values.update({"model": "m", **over})
    return values


def test_model_args_lighteval_syntax() -> None:
    text = ('dtype=bfloat16,gpu_memory_utilization=0.9,max_num_batched_tokens=8192,enforce_eager=true,'
            'chat_template_kwargs={"enable_thinking":false, "x": [1, 2]},stop=["a,b"],name="q,uoted",'
            'trust-remote-code=True,revision=null')
    assert parse_model_args(text) == {
        "dtype": "bfloat16", "gpu_memory_utilization": 0.9, "max_num_batched_tokens": 8192, "enforce_eager": True,
        "chat_template_kwargs": {"enable_thinking": False, "x": [1, 2]}, "stop": ["a,b"], "name": "q,uoted",
        "trust_remote_code": True, "revision": None}
    assert parse_model_args("") == {} and parse_model_args(None) == {}
    assert parse_model_args("a=1,") == {"a": 1}


@pytest.mark.parametrize(("text", "message"), [
    ("dtype", "'dtype' is not name=value"),
    ("=3", "not name=value"),
    ("a=1,a=2", "a is given twice"),
    ('k={"a": 1', "unclosed bracket"),
    ("k=]", "unbalanced"),
    ("k={enable_thinking: false}", "k=.* is not valid JSON"),
])
def test_bad_model_args(text: str, message: str) -> None:
    with pytest.raises(IoiEvalError, match=message):
        parse_model_args(text)


def test_model_args_reach_the_engine_options_and_win_over_flags() -> None:
    kw = evaluate_kwargs(_values(model_args="max_model_len=4096,enforce_eager=true,max_num_seqs=8,seed=5"))
    opts = kw["engine_options"]
    assert (opts.max_model_len, opts.enforce_eager, opts.seed, opts.llm_kwargs) == (4096, True, 5, {"max_num_seqs": 8})
    oai = evaluate_kwargs(_values(
        engine=Engine.openai, base_url=["http://h:1"], api_mode="chat", model_args=(
            'mode=completions,timeout=30,extra_body={"top_k":20,"chat_template_kwargs":{"enable_thinking":false}},'
            'headers={"X-Team":"ioi"}')))["engine_options"]
    assert (oai.mode, oai.timeout_s, oai.base_url) == ("completions", 30, "http://h:1")
    assert oai.extra_body == {"top_k": 20, "chat_template_kwargs": {"enable_thinking": False}}
    assert oai.headers == {"X-Team": "ioi"}
    hf = evaluate_kwargs(_values(engine=Engine.transformers, model_args="device=cpu,dtype=bfloat16,revision=v1"))
    assert hf["engine_options"].model_dump(exclude_unset=True) == {"device": "cpu", "dtype": "bfloat16",
                                                                   "revision": "v1"}
    several = evaluate_kwargs(_values(engine=Engine.openai, base_url=["http://a:1", "http://b:2"]))
    assert several["engine_options"].base_url == ["http://a:1", "http://b:2"]
    assert "model_args" not in kw and "config" not in kw


def test_model_args_the_engine_does_not_take_are_one_line_errors() -> None:
    with pytest.raises(IoiEvalError) as info:
        evaluate_kwargs(_values(engine=Engine.transformers, model_args="gpu_memory_utilization=0.5,batch_size=x"))
    message = str(info.value)
    assert "\n" not in message and "gpu_memory_utilization: unknown option (got 0.5)" in message
    assert "batch_size" in message


def test_config_file_fills_what_the_command_line_left_unset(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("engine: openai\nbase-url: http://h:1\nsamples: 3\nlanguage: python\nonly: rainfall\n"
                    "system_prompt: Be brief.\nmodel_name: org/label\n"
                    "model_args:\n  timeout: 12\n  extra_body: {top_k: 20}\n  concurrency: 2\n")
    merged = merge_config_file(_values(config=path, samples=7, model_args="concurrency=5",
                                       base_url=["http://given:2"]),
                               given={"model", "samples", "model_args", "base_url"})
    assert merged["engine"] is Engine.openai and merged["language"] is Language.python
    assert merged["samples"] == 7  # the flag wins
    assert merged["base_url"] == ["http://given:2"] and merged["only"] == ["rainfall"]
    assert merged["system_prompt"] == "Be brief." and merged["model_name"] == "org/label"
    assert merged["model_args"] == {"timeout": 12, "extra_body": {"top_k": 20}, "concurrency": 5}
    kw = evaluate_kwargs(merged)
    assert kw["engine_options"].concurrency == 5 and kw["engine_options"].timeout_s == 12
    assert kw["samples"] == 7 and kw["language"] == "python" and kw["system_prompt"] == "Be brief."
    # without a click context, "given" are the options that differ from their defaults
    assert merge_config_file(_values(config=path))["samples"] == 3


@pytest.mark.parametrize(("text", "message"), [
    ("samplez: 3\n", "unknown run option 'samplez'"),
    ("samples: many\n", "samples: .*integer.*'many'"),
    ("engine: tgi\n", "engine: "),
    ("- 1\n", "a mapping"),
    ("a: [\n", "not valid YAML"),
    ("model_args: 3\n", "model_args must be"),
])
def test_bad_config_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "run.yaml"
    path.write_text(text)
    with pytest.raises(IoiEvalError, match=message):
        merge_config_file(_values(config=path))
    with pytest.raises(IoiEvalError, match="cannot read"):
        merge_config_file(_values(config=tmp_path / "missing.yaml"))


def test_a_flag_beats_the_files_model_arg_of_the_same_option(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("engine: openai\nbase-url: http://h:1\nmodel_args:\n  concurrency: 2\n  timeout: 12\n")
    merged = merge_config_file(_values(config=path, concurrency=9), given={"model", "concurrency"})
    assert merged["model_args"] == {"timeout": 12}
    assert evaluate_kwargs(merged)["engine_options"].concurrency == 9  # the command line wins over the file
