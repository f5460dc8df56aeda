"""get_engine: names, aliases, lazy imports."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ioi_eval.generate import ENGINE_NAMES, engine_class, get_engine


def test_names() -> None:
    assert set(ENGINE_NAMES) == {"vllm", "openai", "transformers", "replay", "reference"}
    assert engine_class("OpenAI").__name__ == "OpenAIEngine"
    assert engine_class("hf").__name__ == "TransformersEngine"
    assert engine_class("replay").__name__ == "ReplayEngine"


def test_unknown_engine() -> None:
    with pytest.raises(ValueError, match=r"unknown engine 'tgi'.*vllm, openai, transformers, replay"):
        get_engine("tgi", "m")


def test_import_is_light() -> None:
    """Importing the package pulls in no engine module and none of the optional dependencies."""
    code = ("import sys, ioi_eval.generate; "
            "heavy = [m for m in ('vllm', 'torch', 'transformers', 'datasets', 'pyarrow', "
            "'ioi_eval.generate.vllm_engine', 'ioi_eval.generate.transformers_engine') if m in sys.modules]; "
            "print(heavy); assert not heavy")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
