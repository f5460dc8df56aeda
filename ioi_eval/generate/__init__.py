"""Generation engines behind one protocol (:class:`~ioi_eval.generate.base.Engine`).

``get_engine(name, model, **options)`` builds one by name; each engine's module is imported only then, so
the core install needs none of the optional dependencies:

* ``vllm``: offline ``vllm.LLM`` on local GPUs (``pip install 'ioi-eval[vllm]'``);
* ``openai``: any OpenAI-compatible server (``vllm serve``, SGLang, TGI, hosted APIs);
* ``transformers``: ``AutoModelForCausalLM.generate`` on CPU or a GPU (``pip install 'ioi-eval[transformers]'``);
* ``replay``: completions recorded elsewhere (``model`` is then the source: a file, folder or ``hf:<repo>``).
"""

from __future__ import annotations

from typing import Any

from ioi_eval.generate.base import Completion, Engine, GenerationRequest, SamplingConfig
from ioi_eval.generate.reasoning import split_reasoning

#: Engine names and their aliases, mapped to (module, class).
_ENGINES: dict[str, tuple[str, str]] = {
    "vllm": ("ioi_eval.generate.vllm_engine", "VLLMEngine"),
    "openai": ("ioi_eval.generate.openai_engine", "OpenAIEngine"),
    "transformers": ("ioi_eval.generate.transformers_engine", "TransformersEngine"),
    "replay": ("ioi_eval.generate.replay", "ReplayEngine"),
}
_ALIASES = {"hf": "transformers", "openai-compatible": "openai", "api": "openai"}

ENGINE_NAMES: tuple[str, ...] = tuple(_ENGINES)


def engine_class(name: str) -> type:
    """The engine class registered under ``name`` (imports its module)."""
    import importlib

    key = _ALIASES.get(name.lower(), name.lower())
    if key not in _ENGINES:
        raise ValueError(f"unknown engine {name!r}; choose one of: {', '.join(ENGINE_NAMES)}")
    module, cls = _ENGINES[key]
    return getattr(importlib.import_module(module), cls)


def get_engine(name: str, model: str, **options: Any) -> Engine:
    """Build the engine ``name`` for ``model`` (for ``replay``, ``model`` is the recorded source).

    Options are the engine constructor's keyword arguments, e.g.
    ``get_engine("openai", "my-model", base_url="http://localhost:8000", concurrency=32)``.
    """
    cls = engine_class(name)
    return cls(model, **options)


__all__ = [
    "ENGINE_NAMES",
    "Completion",
    "Engine",
    "GenerationRequest",
    "SamplingConfig",
    "engine_class",
    "get_engine",
    "split_reasoning",
]
