"""Hub log-in advice names the command the installed huggingface_hub ships."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ioi_eval.hub import login_command, token_advice


def test_the_installed_huggingface_hub_ships_the_command_we_name() -> None:
    pytest.importorskip("huggingface_hub")
    command = login_command()
    assert command in ("hf auth login", "huggingface-cli login")
    assert token_advice() == f"set HF_TOKEN or run `{command}`"
    exe = shutil.which(command.split()[0], path=str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"])
    assert exe, f"{command.split()[0]} is not installed beside {sys.executable}"
    res = subprocess.run([exe, *command.split()[1:], "--help"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr


def _fake_dist(root: Path, version: str, scripts: dict[str, str]) -> Path:
    """A huggingface_hub distribution's metadata (no code), found first on sys.path."""
    info = root / f"huggingface_hub-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: huggingface_hub\nVersion: {version}\n")
    (info / "entry_points.txt").write_text("[console_scripts]\n" + "".join(f"{k} = {v}\n" for k, v in scripts.items()))
    return root


@pytest.mark.parametrize(("scripts", "expected"), [
    ({"huggingface-cli": "huggingface_hub.commands.huggingface_cli:main"}, "huggingface-cli login"),
    ({"hf": "huggingface_hub.cli.hf:main", "huggingface-cli": "huggingface_hub.commands.huggingface_cli:main"},
     "hf auth login"),
    ({}, "python -c 'from huggingface_hub import login; login()'")])
def test_advice_follows_the_installed_version(tmp_path: Path, scripts: dict, expected: str) -> None:
    site = _fake_dist(tmp_path / "site", "0.30.0", scripts)
    code = "from ioi_eval.hub import login_command; print(login_command())"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), *sys.path])}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == expected
