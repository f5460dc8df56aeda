"""Engine options as users of other harnesses write them: lighteval's ``--model-args`` and a ``--config`` file.

``--model-args 'dtype=bfloat16,gpu_memory_utilization=0.9,chat_template_kwargs={"enable_thinking":false}'`` is a
comma-separated list of ``name=value`` pairs; a value is read as JSON where it is JSON (numbers, ``true``/``false``,
``null``, quoted strings, ``{...}`` objects and ``[...]`` lists, which may hold commas) and is a plain string
otherwise (``dtype=bfloat16``). ``True``/``False`` are taken as booleans too.

``--config run.yaml`` (YAML or JSON) holds run options by their command-line names (``samples: 8``, ``base-url`` or
``base_url``) and ``model_args`` (a mapping, or a string in the ``--model-args`` syntax). Options given on the
command line win over the file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from ..errors import IoiEvalError

_BOOLEANS = {"true": True, "false": False}


def _split_pairs(text: str) -> list[str]:
    """``text`` cut at the commas that are outside brackets, braces and quotes."""
    parts: list[str] = []
    depth, quote, start, i = 0, "", 0, 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
            if depth < 0:
                raise IoiEvalError(f"--model-args: unbalanced {ch!r} at character {i + 1} of {text!r}")
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    if quote or depth:
        raise IoiEvalError(f"--model-args: unclosed {'quote' if quote else 'bracket'} in {text!r}")
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def _value(name: str, raw: str) -> Any:
    """One value: JSON where it parses, a boolean for True/False, else the plain string."""
    raw = raw.strip()
    if raw.lower() in _BOOLEANS:
        return _BOOLEANS[raw.lower()]
    try:
        return json.loads(raw)
    except ValueError:
        if raw[:1] in "{[":
            raise IoiEvalError(f"--model-args: {name}={raw} is not valid JSON (write objects as "
                               '{"key": value}, with double quotes)') from None
        return raw


def parse_model_args(text: str | None) -> dict[str, Any]:
    """``name=value,...`` (lighteval's ``--model-args`` syntax) as a dict; raises :class:`IoiEvalError` on bad
    syntax, naming the pair."""
    if not text or not text.strip():
        return {}
    args: dict[str, Any] = {}
    for pair in _split_pairs(text):
        name, eq, raw = pair.partition("=")
        name = name.strip().replace("-", "_")
        if not eq or not name.isidentifier():
            raise IoiEvalError(f"--model-args: {pair!r} is not name=value")
        if name in args:
            raise IoiEvalError(f"--model-args: {name} is given twice")
        args[name] = _value(name, raw)
    return args


def load_run_config(path: Path, known: set[str]) -> dict[str, Any]:
    """The run options in the file ``path`` (YAML or JSON), keyed by parameter name (dashes as underscores).

    ``known`` are the run options' parameter names; a key that is none of them is an error naming it.
    ``model_args`` may be a mapping or a ``--model-args`` string and comes back as a dict.
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise IoiEvalError(f"{path}: cannot read the run config: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise IoiEvalError(f"{path}: not valid YAML: {str(exc).splitlines()[0]}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise IoiEvalError(f"{path}: a run config is a mapping of option names to values")
    values: dict[str, Any] = {}
    for key, value in data.items():
        name = str(key).strip().lstrip("-").replace("-", "_")
        if name not in known or name == "config":
            raise IoiEvalError(f"{path}: unknown run option {key!r}")
        values[name] = value
    args = values.get("model_args")
    if isinstance(args, str):
        values["model_args"] = parse_model_args(args)
    elif args is not None and not isinstance(args, dict):
        raise IoiEvalError(f"{path}: model_args must be a mapping or a 'name=value,...' string")
    return values
