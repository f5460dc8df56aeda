"""What to tell a user who must log in to the Hugging Face Hub: the command the installed ``huggingface_hub`` ships.

``huggingface_hub`` 0.34 added the ``hf`` command (``hf auth login``); 1.0 removed ``huggingface-cli``. The advice
is read from the installed distribution's console scripts, so it names a command that exists.
"""

from __future__ import annotations

from importlib import metadata

#: Said when no command-line script of huggingface_hub is known.
PYTHON_LOGIN = "python -c 'from huggingface_hub import login; login()'"


def login_command() -> str:
    """``hf auth login``, ``huggingface-cli login`` (older huggingface_hub), or how to install it first."""
    try:
        dist = metadata.distribution("huggingface_hub")
    except metadata.PackageNotFoundError:
        return "pip install huggingface_hub, then hf auth login"
    scripts = {ep.name for ep in dist.entry_points if ep.group == "console_scripts"}
    if "hf" in scripts:
        return "hf auth login"
    if "huggingface-cli" in scripts:
        return "huggingface-cli login"
    return PYTHON_LOGIN


def token_advice() -> str:
    """How to give a Hub token: ``set HF_TOKEN or run `<login command>```."""
    return f"set HF_TOKEN or run `{login_command()}`"
