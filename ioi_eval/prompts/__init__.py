"""Prompts: the chat messages that ask a model to solve a problem (or one subtask of it).

The messages come from Jinja2 templates (``templates/ioi_<language>.j2`` by default, or a user's file
given with ``--prompt-template``); :func:`build_prompt` gathers what the templates show.
"""

from __future__ import annotations

from .builder import (
    TEMPLATES_DIR,
    build_prompt,
    default_template,
    prompt_context,
    resolve_template,
    supported_languages,
)

__all__ = [
    "TEMPLATES_DIR",
    "build_prompt",
    "default_template",
    "prompt_context",
    "resolve_template",
    "supported_languages",
]
