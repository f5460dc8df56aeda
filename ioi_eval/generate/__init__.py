"""Generation engines behind one protocol (:class:`~ioi_eval.generate.base.Engine`).

``get_engine(name, model, options)`` builds one by name; each engine's module is imported only then, so
the core install needs none of the optional dependencies:

* ``vllm``: offline ``vllm.LLM`` on local GPUs (``pip install 'ioi-eval[vllm]'``);
* ``openai``: any OpenAI-compatible server (``vllm serve``, SGLang, TGI, hosted APIs);
* ``transformers``: ``AutoModelForCausalLM.generate`` on CPU or a GPU (``pip install 'ioi-eval[transformers]'``);
* ``replay``: completions recorded elsewhere (``model`` is then the source: a file, folder or ``hf:<repo>``);
* ``reference``: the problem packages' own model solutions (``--model reference``).

Each engine's module defines ``Options`` (a pydantic model that refuses unknown fields: the engine's options and
their defaults) and the engine class builds itself with ``from_options(model, options)``. :data:`_ENGINES` is the
only list of engine names: the command line's ``--engine`` choices are derived from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ioi_eval.registry import load

if TYPE_CHECKING:  # the registry itself imports nothing heavy: the command line reads its names at start-up
    from pydantic import BaseModel

    from ioi_eval.generate.base import Engine

#: Engine names mapped to ``"module:Class"`` (imported on first use, :func:`ioi_eval.registry.load`); the module
#: also defines the engine's ``Options``.
_ENGINES: dict[str, str] = {
    "vllm": "ioi_eval.generate.vllm_engine:VLLMEngine",
    "openai": "ioi_eval.generate.openai_engine:OpenAIEngine",
    "transformers": "ioi_eval.generate.transformers_engine:TransformersEngine",
    "replay": "ioi_eval.generate.replay:ReplayEngine",
    "reference": "ioi_eval.generate.reference:ReferenceEngine",
}
_ALIASES = {"hf": "transformers", "openai-compatible": "openai", "api": "openai"}

ENGINE_NAMES: tuple[str, ...] = tuple(_ENGINES)


def _entry(name: str) -> str:
    """The ``"module:Class"`` registered under ``name`` or one of its aliases."""
    key = _ALIASES.get(name.lower(), name.lower())
    if key not in _ENGINES:
        raise ValueError(f"unknown engine {name!r}; choose one of: {', '.join(ENGINE_NAMES)}")
    return _ENGINES[key]


def engine_class(name: str) -> type:
    """The engine class registered under ``name`` (imports its module)."""
    return load(_entry(name))


def options_class(name: str) -> type[BaseModel]:
    """The ``Options`` model of the engine ``name`` (imports its module, which needs no optional dependency)."""
    module, _, _ = _entry(name).partition(":")
    return load(f"{module}:Options")


def engine_options(name: str, options: BaseModel | Mapping[str, Any] | None = None, **overrides: Any) -> BaseModel:
    """``options`` (a mapping, or an ``Options`` model of any engine) and ``overrides`` as the engine's ``Options``.

    Raises ``ValueError`` (pydantic's ``ValidationError``) for a field the engine does not have or a bad value.
    Fields left out keep the engine's defaults and stay unset (``model_dump(exclude_unset=True)`` leaves them
    out), so a run records only the options that were chosen.
    """
    cls = options_class(name)
    if isinstance(options, cls) and not overrides:
        return options
    given = options.model_dump(exclude_unset=True) if hasattr(options, "model_dump") else dict(options or {})
    return cls.model_validate({**given, **overrides})


def get_engine(name: str, model: str, options: BaseModel | Mapping[str, Any] | None = None,
               **overrides: Any) -> Engine:
    """Build the engine ``name`` for ``model`` (for ``replay``, ``model`` is the recorded source).

    ``options`` and keyword ``overrides`` are the engine's :func:`engine_options`, e.g.
    ``get_engine("openai", "my-model", base_url="http://localhost:8000", concurrency=32)``.
    """
    return engine_class(name).from_options(model, engine_options(name, options, **overrides))


__all__ = ["ENGINE_NAMES", "engine_class", "engine_options", "get_engine", "options_class"]
