"""Small helpers every engine shares."""

from __future__ import annotations

from collections.abc import Sequence

from ioi_eval.generate.base import GenerationRequest, SamplingConfig


def flatten_messages(messages: Sequence[dict[str, str]]) -> str:
    """A plain prompt from chat messages (completions mode): their contents, in order, blank-line separated."""
    return "\n\n".join(m.get("content", "") for m in messages if m.get("content"))


def effective_seed(request: GenerationRequest, sampling: SamplingConfig) -> int | None:
    """The seed of one request: its own, else the base seed plus its sample index, else None."""
    if request.seed is not None:
        return request.seed
    if sampling.seed is not None:
        return sampling.seed + request.sample
    return None
