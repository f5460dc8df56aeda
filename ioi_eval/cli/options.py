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
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
from pydantic import ValidationError

from ..errors import IoiEvalError
from ..generate import ENGINE_NAMES, options_class
from .common import (
    BackendOpt,
    Language,
    ProfileOpt,
    RayAddressOpt,
    RayBoxOpt,
    WorkersOpt,
    backend_options,
    one_of,
    reported_errors,
)
from .run_config import load_run_config, parse_model_args

if TYPE_CHECKING:
    from pydantic import BaseModel

#: Generation engines: the engine registry's names.
Engine = Enum("Engine", {name: name for name in ENGINE_NAMES}, type=str)

#: The run options that are engine options: each goes to the chosen engine when its ``Options`` has a field of
#: that name (or alias), and is ignored otherwise.
ENGINE_FLAGS = ("base_url", "api_key", "concurrency", "api_mode", "tensor_parallel_size", "data_parallel_size",
                "max_model_len")


def _run_options(
    model: Annotated[str | None, typer.Option(
        "--model", "-m", help="model name/path, a replay source, or 'reference' (required, here or in --config)")]
    = None,
    model_name: Annotated[str | None, typer.Option(
        "--model-name", help="the model's label in run folders and leaderboards (default: --model; for replay, "
                             "the model the rows name)")] = None,
    model_args: Annotated[str | None, typer.Option(
        "--model-args", help="engine options, lighteval-style: 'dtype=bfloat16,max_num_batched_tokens=8192,"
                             "chat_template_kwargs={\"enable_thinking\":false}' (docs/engines.md)")] = None,
    config: Annotated[Path | None, typer.Option(
        "--config", help="YAML/JSON file of run options and model_args; flags given here win")] = None,
    problems: Annotated[str, typer.Option(
        "--problems", "-p", help="folder of packages, one package, or a source spec (hf:..., kattis:..., "
                                 "polygon:...; docs/sources.md)")] = "problems",
    engine: Annotated[Engine | None, typer.Option(
        "--engine", metavar="<engine>", help=f"{one_of(Engine)}; default: vllm ('reference' for --model reference)")]
    = None,
    samples: Annotated[int, typer.Option("--samples", "-n", help="generations per subtask (or problem)")] = 50,
    per: Annotated[Literal["subtask", "problem"], typer.Option(
        "--per", metavar="<per>", help="one prompt per subtask or per problem: subtask, problem")] = "subtask",
    language: Annotated[Language, typer.Option("--language", "-l")] = Language("cpp"),
    only: Annotated[list[str] | None, typer.Option("--only", help="evaluate only these problem codes")] = None,
    temperature: Annotated[float, typer.Option("--temperature")] = 0.7,
    top_p: Annotated[float, typer.Option("--top-p")] = 0.95,
    max_tokens: Annotated[int | None, typer.Option("--max-tokens", help="default: what the context allows")] = None,
    seed: Annotated[int, typer.Option("--seed", help="sample i uses seed+i")] = 0,
    base_url: Annotated[list[str] | None, typer.Option(
        "--base-url", help="openai: server URL; repeat it for several servers (least loaded first)")] = None,
    api_key: Annotated[str | None, typer.Option("--api-key", help="openai: key (default $OPENAI_API_KEY)")] = None,
    concurrency: Annotated[int, typer.Option("--concurrency", help="openai: requests in flight")] = 8,
    api_mode: Annotated[Literal["chat", "completions"], typer.Option(
        "--api-mode", metavar="<mode>", help="openai: the API to call, chat or completions")] = "chat",
    tensor_parallel_size: Annotated[int, typer.Option("--tensor-parallel-size")] = 1,
    data_parallel_size: Annotated[int, typer.Option("--data-parallel-size")] = 1,
    max_model_len: Annotated[int | None, typer.Option("--max-model-len")] = None,
    system_prompt: Annotated[str | None, typer.Option(
        "--system-prompt", help="system message for every prompt (replaces the template's)")] = None,
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
    ray_address: RayAddressOpt = None,
    ray_box: RayBoxOpt = "local",
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
        with reported_errors():
            if run_values.get("config") is not None:
                run_values = merge_config_file(run_values, _given_on_command_line())
            if not run_values.get("model"):
                raise IoiEvalError("--model is required (on the command line, or as model: in the --config file)")
        return command(run_options=run_values, **values)

    del wrapper.__wrapped__  # typer must see the combined signature, not the wrapped one
    wrapper.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in params}
    return wrapper


def _given_on_command_line() -> set[str] | None:
    """The run options the command line set (typer runs on click; None outside a click command)."""
    import click
    from click.core import ParameterSource

    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return None
    return {name for name in RUN_OPTIONS
            if ctx.get_parameter_source(name) not in (None, ParameterSource.DEFAULT)}


def merge_config_file(values: dict[str, Any], given: set[str] | None = None) -> dict[str, Any]:
    """``values`` with the options of their ``config`` file filled in where the command line left them unset.

    ``given`` names the options set on the command line (None: those whose value differs from the default).
    Model args merge name by name: ``--model-args`` wins over the file's ``model_args``. Raises
    :class:`IoiEvalError` for a file that cannot be read, an unknown option or a bad value.
    """
    from pydantic import TypeAdapter, ValidationError

    path = values["config"]
    if given is None:
        given = {n for n, p in RUN_OPTIONS.items() if values.get(n, p.default) != p.default}
    merged = dict(values)
    for name, raw in load_run_config(path, set(RUN_OPTIONS)).items():
        if name == "model_args":
            flag_args = parse_model_args(values.get("model_args")) if "model_args" in given else {}
            # A flag given on the command line beats the file's model arg of the same option (flags win).
            from_file = {k: v for k, v in raw.items()
                         if k not in given and not (k == "mode" and "api_mode" in given)}
            merged["model_args"] = {**from_file, **flag_args}
            continue
        if name in given:
            continue
        annotation = RUN_OPTIONS[name].annotation
        if isinstance(raw, (str, int, float)) and "list[" in str(annotation):
            raw = [raw]
        try:
            merged[name] = TypeAdapter(annotation).validate_python(raw)
        except ValidationError as exc:
            problem = exc.errors()[0]["msg"] if exc.errors() else str(exc)
            raise IoiEvalError(f"{path}: {name}: {problem} (got {raw!r})") from None
    return merged


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
    urls = flags["base_url"]
    if isinstance(urls, (list, tuple)):  # one URL is recorded as a string, as runs have always stored it
        flags["base_url"] = None if not urls else urls[0] if len(urls) == 1 else list(urls)
    model_args = v.pop("model_args", None)
    model_args = dict(model_args) if isinstance(model_args, dict) else parse_model_args(model_args)
    v.pop("config", None)
    v["backend_options"] = backend_options(v["backend"], v.pop("ray_address", None), v.pop("ray_box", "local"))
    language = v["language"]
    return {**v, "engine": chosen, "engine_options": _options_from_flags(chosen, flags, model_args),
            "language": getattr(language, "value", language)}


def _option_names(options: type[BaseModel]) -> set[str]:
    """The names an ``Options`` model takes: its fields and their validation aliases."""
    names = set(options.model_fields)
    for f in options.model_fields.values():
        alias = f.validation_alias
        choices = getattr(alias, "choices", [alias])  # an AliasChoices, or one name
        names.update(c for c in choices if isinstance(c, str))
    return names


def _options_from_flags(engine: str, flags: dict[str, Any], model_args: dict[str, Any] | None = None) -> BaseModel:
    """The engine's ``Options`` from the engine flags it has a field for (every one passed, None included, so the
    run records them as it always has) and the model args, which win over the flags; the flags it has no field for
    are ignored, while every model arg must be the engine's (an unknown one is an error naming it)."""
    cls = options_class(engine)
    given = {k: value for k, value in flags.items() if k in _option_names(cls)}
    if model_args:
        for name in model_args:  # the flag's value gives way to the model arg of the same option
            given.pop(name, None)
            if name == "mode":
                given.pop("api_mode", None)
        given.update(model_args)
    for name in getattr(cls, "required_on_cli", ()):
        if not given.get(name):
            raise IoiEvalError(f"--engine {engine} needs --{name.replace('_', '-')}")
    try:
        return cls.model_validate(given)
    except ValidationError as exc:
        raise IoiEvalError(f"--engine {engine}: {validation_line(exc)}") from None


def validation_line(exc: ValidationError) -> str:
    """A pydantic error as one line: each bad option, what is wrong with it and the value given."""
    parts = []
    for e in exc.errors():
        where = ".".join(str(x) for x in e["loc"]) or "options"
        what = "unknown option" if e["type"] == "extra_forbidden" else e["msg"]
        parts.append(f"{where}: {what} (got {e['input']!r})" if e["type"] != "missing" else f"{where}: {what}")
    return "; ".join(parts)
