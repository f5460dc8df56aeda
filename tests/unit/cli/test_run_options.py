"""The run options, defined once (``ioi_eval.cli.options``) and shared by ``run`` and ``ci``."""

from __future__ import annotations

import inspect

import pytest
from typer.testing import CliRunner

from ioi_eval.cli import app
from ioi_eval.cli.common import Language
from ioi_eval.cli.options import RUN_OPTIONS, Engine, evaluate_kwargs, with_run_options
from ioi_eval.errors import IoiEvalError


def _values(**over):
    values = {name: p.default for name, p in RUN_OPTIONS.items()}
    values.update({"model": "m", **over})
    return values


def test_engine_options_per_engine():
    vllm = evaluate_kwargs(_values())
    assert vllm["engine"] == "vllm"
    # the engine's Options; the run records the fields the flags set (as the dicts runs have always stored)
    assert vllm["engine_options"].model_dump(exclude_unset=True) == {
        "tensor_parallel_size": 1, "data_parallel_size": 1, "max_model_len": None}
    assert vllm["language"] == "cpp" and "base_url" not in vllm and "api_mode" not in vllm
    oai = evaluate_kwargs(_values(engine=Engine.openai, base_url="http://127.0.0.1:9", api_mode="completions"))
    assert oai["engine_options"].model_dump(exclude_unset=True) == {
        "base_url": "http://127.0.0.1:9", "api_key": None, "concurrency": 8, "mode": "completions"}
    ref = evaluate_kwargs(_values(model="reference", language=Language.python))
    assert ref["engine"] == "reference" and ref["engine_options"].model_dump(exclude_unset=True) == {}
    assert ref["language"] == "python"
    # every remaining key is a parameter of evaluate()
    from ioi_eval.run.evaluate import evaluate
    assert set(ref) <= set(inspect.signature(evaluate).parameters)


def test_engine_choices_are_the_registry():
    from ioi_eval.generate import ENGINE_NAMES, options_class

    assert [e.value for e in Engine] == list(ENGINE_NAMES)
    for name in ENGINE_NAMES:  # each engine gets its own Options model
        assert type(evaluate_kwargs(_values(engine=Engine(name), base_url="http://h"))["engine_options"]) \
            is options_class(name)


@pytest.mark.parametrize("engine", ["transformers", "replay", "reference"])
def test_flags_another_engine_has_are_ignored(engine):
    """As before: an engine flag the chosen engine has no option for is left out, not refused."""
    kw = evaluate_kwargs(_values(engine=Engine(engine), base_url="http://h", tensor_parallel_size=4,
                                 max_model_len=4096))
    assert kw["engine"] == engine and kw["engine_options"].model_dump(exclude_unset=True) == {}
    vllm = evaluate_kwargs(_values(base_url="http://h", concurrency=3))  # openai's flags, given to vllm
    assert set(vllm["engine_options"].model_dump(exclude_unset=True)) == {
        "tensor_parallel_size", "data_parallel_size", "max_model_len"}


@pytest.mark.parametrize(("over", "message"), [
    ({"per": "sample"}, "--per"),
    ({"api_mode": "stream"}, "--api-mode"),
    ({"engine": Engine.openai}, "--base-url"),
])
def test_bad_values_are_clear_errors(over, message):
    with pytest.raises(IoiEvalError, match=message):
        evaluate_kwargs(_values(**over))


def test_with_run_options_passes_them_as_one_dict():
    seen = {}

    def command(run_options: dict, flag: bool = False) -> None:
        seen.update(run_options, flag=flag)

    wrapped = with_run_options(command)
    params = inspect.signature(wrapped).parameters
    assert "run_options" not in params and {"flag", "model", "judge_profile"} <= set(params)
    assert params["model"].default is None  # required, but it may come from --config
    wrapped(**_values(seed=7), flag=True)
    assert seen["seed"] == 7 and seen["flag"] is True and seen["model"] == "m"


@pytest.mark.parametrize("command", ["run", "ci"])
def test_both_commands_take_every_run_option(command):
    res = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "300"})
    assert res.exit_code == 0, res.output
    for name in ("--model", "--problems", "--judge-profile", "--backend", "--api-mode", "--max-model-len"):
        assert name in res.output, (command, name)
