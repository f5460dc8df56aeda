"""The command line's import graph: a command imports what it needs and nothing of the others (issue 13).

A structural check, not a timing: each case runs in a fresh interpreter and looks at ``sys.modules``.
(``tests/system/test_cli_startup.py`` checks a real ``ioi-eval judge --json`` the same way.)
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

#: Never imported by the command line's start-up: optional, heavy dependencies of engines, exports and backends.
HEAVY = ("torch", "transformers", "datasets", "openai", "docker", "ray", "pandas", "numpy", "vllm", "e2b",
         "httpx", "uvicorn", "starlette", "jinja2")
#: What only some commands need: YAML (--config files, Kattis), progress bars and tables, the run machinery.
NOT_FOR_JUDGE = ("yaml", "rich", "ioi_eval.run", "ioi_eval.record", "ioi_eval.generate", "ioi_eval.report",
                 "ioi_eval.select", "ioi_eval.scoring", "ioi_eval.cli.run", "ioi_eval.cli.ci",
                 "ioi_eval.cli.leaderboard", "ioi_eval.backends.docker", "ioi_eval.sources.kattis",
                 "ioi_eval.sources.polygon", "ioi_eval.sources.hf")


def loaded_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``code``."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    res = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    return set(json.loads(res.stdout.splitlines()[-1]))


def offenders(modules: set[str], banned: tuple[str, ...]) -> list[str]:
    """The banned packages (or modules) present, by their banned name."""
    return sorted({b for b in banned for m in modules if m == b or m.startswith(b + ".")})


def test_importing_the_cli_imports_no_command() -> None:
    mods = loaded_after("import ioi_eval.cli.main")
    assert offenders(mods, HEAVY + NOT_FOR_JUDGE) == []
    assert not {"ioi_eval.cli.judge", "ioi_eval.cli.problems", "ioi_eval.judge.judge"} & mods  # imported to run


def test_the_judge_command_imports_only_its_own() -> None:
    code = ("import typer.main\nfrom ioi_eval.cli.main import app\n"
            "group = typer.main.get_command(app)\n"
            "assert group.get_command(None, 'judge').name == 'judge'\n"
            "import ioi_eval.judge.judge, ioi_eval.sources, ioi_eval.backends.local")
    mods = loaded_after(code)
    assert "ioi_eval.cli.judge" in mods
    assert offenders(mods, HEAVY + NOT_FOR_JUDGE) == []


@pytest.mark.parametrize("name", ["ci", "judge", "run", "leaderboard", "select", "doctor", "serve-rewards",
                                  "problems", "export", "sandbox"])
def test_every_command_still_resolves(name: str) -> None:
    from typer.main import get_command

    from ioi_eval.cli.main import COMMANDS, app

    group = get_command(app)
    assert list(group.list_commands(None)) == list(COMMANDS)  # type: ignore[attr-defined]
    command = group.get_command(None, name)  # type: ignore[attr-defined]
    assert command is not None and command.name == name and command.help
