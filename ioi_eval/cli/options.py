"""The options of ``ioi-eval run``, defined once for every command that runs an evaluation.

``run`` and ``ci`` both take them: :func:`with_run_options` adds them to a command's signature
(typer reads signatures), and :func:`evaluate_kwargs` checks their values and turns them into the
keyword arguments of :func:`ioi_eval.run.evaluate.evaluate`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..errors import IoiEvalError
from ..generate import ENGINE_NAMES, options_class
from .common import BackendOpt, Language, ProfileOpt, WorkersOpt

if TYPE_CHECKING:
    from pydantic import BaseModel

#: Generation engines: the engine registry's names.
Engine = Enum("Engine", {name: name for name in ENGINE_NAMES}, type=str)

#: The run options that are engine options: each goes to the chosen engine when its ``Options`` has a field of
#: that name (or alias), and is ignored otherwise.
ENGINE_FLAGS = ("base_url", "api_key", "concurrency", "api_mode", "tensor_parallel_size", "data_parallel_size",
                "max_model_len")


def _run_options(
    model: Annotated[str, typer.Option("--model", "-m", help="model name/path, a replay source, or 'reference'")],
    problems: Annotated[str, typer.Option(
        "--problems", "-p", help="folder of packages, one package, or a source spec (hf:..., kattis:..., "
                                 "polygon:...; docs/sources.md)")] = "problems",
    engine: Annotated[Engine | None, typer.Option("--engine", help="default: vllm ('reference' for --model reference)")]
    = None,
    samples: Annotated[int, typer.Option("--samples", "-n", help="generations per subtask (or problem)")] = 50,
    per: Annotated[str, typer.Option("--per", help="prompt per 'subtask' or per 'problem'")] = "subtask",
    language: Annotated[Language, typer.Option("--language", "-l")] = Language("cpp"),
    only: Annotated[list[str] | None, typer.Option("--only", help="evaluate only these problem codes")] = None,
    temperature: Annotated[float, typer.Option("--temperature")] = 0.7,
    top_p: Annotated[float, typer.Option("--top-p")] = 0.95,
    max_tokens: Annotated[int | None, typer.Option("--max-tokens", help="default: what the context allows")] = None,
    seed: Annotated[int, typer.Option("--seed", help="sample i uses seed+i")] = 0,
    base_url: Annotated[str | None, typer.Option("--base-url", help="openai: server URL")] = None,
    api_key: Annotated[str | None, typer.Option("--api-key", help="openai: key (default $OPENAI_API_KEY)")] = None,
    concurrency: Annotated[int, typer.Option("--concurrency", help="openai: requests in flight")] = 8,
    api_mode: Annotated[str, typer.Option("--api-mode", help="openai: 'chat' or 'completions'")] = "chat",
    tensor_parallel_size: Annotated[int, typer.Option("--tensor-parallel-size")] = 1,
    data_parallel_size: Annotated[int, typer.Option("--data-parallel-size")] = 1,
    max_model_len: Annotated[int | None, typer.Option("--max-model-len")] = None,
    prompt_template: Annotated[Path | None, typer.Option(
        "--prompt-template", help="Jinja2 template file, or 'source' for the dataset's own prompt")] = None,
    run_dir: Annotated[Path | None, typer.Option("--run-dir", help="default: runs/<model>-<problems>")] = None,
    new_run: Annotated[bool, typer.Option("--new-run", help="start afresh even if the run folder exists")] = False,
    generate_inputs: Annotated[int, typer.Option(
        "--generate-inputs", help="also ask the model for a random input generator per problem, run by "
                                  "`ioi-eval select` with seeds 1..N (cluster strategy); 0: none")] = 0,
    backend: BackendOpt = "local",
    workers: WorkersOpt = None,
    judge_profile: ProfileOpt = "cms",
) -> None:
    """Never called: its signature is the list of run options."""


RUN_OPTIONS = inspect.signature(_run_options, eval_str=True).parameters


def with_run_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Give ``command`` every run option too; it receives their values as one dict, ``run_options``."""
    own = [p for p in inspect.signature(command, eval_str=True).parameters.values() if p.name != "run_options"]
    params = own + list(RUN_OPTIONS.values())
    # keyword-only, required ones first: a Signature refuses a required parameter after a defaulted one
    params = sorted((p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in params),
                    key=lambda p: p.default is not inspect.Parameter.empty)

    @functools.wraps(command)
    def wrapper(**values: Any) -> Any:
        run_values = {name: values.pop(name) for name in RUN_OPTIONS}
        return command(run_options=run_values, **values)

    del wrapper.__wrapped__  # typer must see the combined signature, not the wrapped one
    wrapper.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in params}
    return wrapper


def evaluate_kwargs(values: dict[str, Any]) -> dict[str, Any]:
    """Check run option values; the keyword arguments of :func:`ioi_eval.run.evaluate.evaluate`."""
    v = dict(values)
    if v["per"] not in ("subtask", "problem"):
        raise IoiEvalError("--per must be 'subtask' or 'problem'")
    if v["generate_inputs"] < 0:
        raise IoiEvalError("--generate-inputs must be 0 or a positive number of inputs")
    if v["api_mode"] not in ("chat", "completions"):
        raise IoiEvalError("--api-mode must be 'chat' or 'completions'")
    engine = v.pop("engine")
    chosen = engine.value if engine else ("reference" if v["model"] == "reference" else "vllm")
    flags = {k: v.pop(k) for k in ENGINE_FLAGS}
    return {**v, "engine": chosen, "engine_options": _options_from_flags(chosen, flags),
            "language": v["language"].value}


def _option_names(options: type[BaseModel]) -> set[str]:
    """The names an ``Options`` model takes: its fields and their validation aliases."""
    names = set(options.model_fields)
    for f in options.model_fields.values():
        alias = f.validation_alias
        choices = getattr(alias, "choices", [alias])  # an AliasChoices, or one name
        names.update(c for c in choices if isinstance(c, str))
    return names


def _options_from_flags(engine: str, flags: dict[str, Any]) -> BaseModel:
    """The engine's ``Options`` from the engine flags it has a field for (every one passed, None included, so the
    run records them as it always has); the flags it has no field for are ignored."""
    cls = options_class(engine)
    given = {k: value for k, value in flags.items() if k in _option_names(cls)}
    for name in getattr(cls, "required_on_cli", ()):
        if not given.get(name):
            raise IoiEvalError(f"--engine {engine} needs --{name.replace('_', '-')}")
    try:
        return cls.model_validate(given)
    except ValueError as exc:  # pydantic's ValidationError
        raise IoiEvalError(f"--engine {engine}: {exc}") from exc
