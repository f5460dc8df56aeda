"""A real ``ioi-eval judge --json`` imports the judge and nothing of the other commands (issue 13: start-up).

A structural check, not a timing (bench/bench_startup.py times it): the process writes ``sys.modules`` at exit.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.unit.cli.test_imports import HEAVY, NOT_FOR_JUDGE, offenders

CORRECT = "#include <cstdio>\nint main(){long long a,b; scanf(\"%lld %lld\",&a,&b); printf(\"%lld\\n\",a+b);}\n"

PROBE = """
import atexit, json, sys
def dump(path=sys.argv.pop(1)):
    with open(path, "w") as f:
        json.dump(sorted(sys.modules), f)
atexit.register(dump)
from ioi_eval.cli.main import main
sys.argv[0] = "ioi-eval"
main()
"""


def test_judge_json_loads_no_other_command(sum_package: Path, tmp_path: Path) -> None:
    sol = tmp_path / "s.cpp"
    sol.write_text(CORRECT)
    dump = tmp_path / "modules.json"
    res = subprocess.run([sys.executable, "-c", PROBE, str(dump), "judge", "--problem", str(sum_package),
                          "--solution", str(sol), "--json"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["score"] == 100
    mods = set(json.loads(dump.read_text()))
    assert "ioi_eval.judge.judge" in mods  # the probe saw the judging
    assert offenders(mods, HEAVY + NOT_FOR_JUDGE) == []  # no rich either: --json prints no table
