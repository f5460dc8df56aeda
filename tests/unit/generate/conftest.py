"""Shared fixtures of the engine tests."""

from __future__ import annotations

import sys
import types

import pytest

from tests.fixtures import fake_vllm_module as fake


@pytest.fixture
def vllm(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """The fake registered as ``vllm`` and ``vllm.reasoning``."""
    fake.reset()
    mod = types.ModuleType("vllm")
    mod.LLM = fake.LLM
    mod.SamplingParams = fake.SamplingParams
    mod.EngineArgs = fake.EngineArgs
    reasoning = types.ModuleType("vllm.reasoning")
    reasoning.ReasoningParserManager = fake.ReasoningParserManager
    mod.reasoning = reasoning
    platforms = types.ModuleType("vllm.platforms")
    platforms.current_platform = fake.current_platform
    mod.platforms = platforms
    monkeypatch.setitem(sys.modules, "vllm.platforms", platforms)
    monkeypatch.setitem(sys.modules, "vllm", mod)
    monkeypatch.setitem(sys.modules, "vllm.reasoning", reasoning)
    return mod
