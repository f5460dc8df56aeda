"""What a user of the command line sees, through the real CLI in a subprocess: --version, -v/-q, progress lines
off a terminal, tables at 80/120/200 columns, --help at 80 columns, validate's closing line, install and log-in
hints, exit codes."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from ioi_eval import __version__
from ioi_eval.cli.main import app
from tests.conftest import PROBLEMS
from tests.fixtures.leaderboard_runs import make_run

WIDTHS = (80, 120, 200)


def cli(*args: str, cwd: Path, columns: int = 80, env: dict | None = None,
        timeout: int = 600) -> subprocess.CompletedProcess:
    environ = {**os.environ, "COLUMNS": str(columns), **(env or {})}
    environ.pop("IOI_EVAL_LOG_LEVEL", None)
    return subprocess.run([sys.executable, "-m", "ioi_eval.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=environ)


def tokens(text: str) -> set[str]:
    return set(re.findall(r"\S+", text))


def test_version(tmp_path: Path) -> None:
    res = cli("--version", cwd=tmp_path)
    assert res.returncode == 0 and res.stdout == f"ioi-eval {__version__}\n"


# -- --help at 80 columns ----------------------------------------------------------------------------------------

def _commands(group, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], object]]:
    """Every command under ``group`` (typer's own click types: duck-typed)."""
    out = []
    for name, cmd in group.commands.items():
        if hasattr(cmd, "commands"):
            out += _commands(cmd, (*path, name))
        else:
            out.append(((*path, name), cmd))
    return out


COMMANDS = _commands(typer.main.get_command(app))


def test_every_command_is_checked() -> None:
    names = {" ".join(p) for p, _ in COMMANDS}
    assert {"run", "ci", "judge", "leaderboard", "select", "doctor", "serve-rewards", "problems validate",
            "problems list", "export cots", "sandbox build"} <= names


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=[" ".join(p) for p, _ in COMMANDS])
def test_help_at_80_columns_keeps_option_names_whole_and_lists_choices(tmp_path: Path, path: tuple[str, ...]) -> None:
    command = dict(COMMANDS)[path]
    res = cli(*path, "--help", cwd=tmp_path, columns=80)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert max(len(x) for x in lines) <= 80
    text = res.stdout
    words = " ".join(x.strip("│ ") for x in lines)  # help text wrapped over lines, joined again
    for param in command.params:
        if param.param_type_name != "option" or param.hidden:
            continue
        for opt in param.opts + param.secondary_opts:
            assert re.search(rf"(?<![\w-]){re.escape(opt)}(?![\w-])", text), f"{opt} is cut in:\n{text}"
        choices = param.type_descriptor.choices or []  # typer's Literal and Enum options
        for choice in choices:
            value = str(getattr(choice, "value", choice))
            assert re.search(rf"(?<![\w-]){re.escape(value)}(?![\w-])", words), f"{param.opts[0]}: {value} not listed"
        if choices:
            assert "<str>" not in next(x for x in lines if param.opts[0] in x), f"{param.opts[0]} shows <str>"


def test_choice_options_list_their_choices(tmp_path: Path) -> None:
    """The options of fixed choices are typed as such (not free strings checked later)."""
    flat = {(p, opt): param for p, cmd in COMMANDS for param in cmd.params if param.param_type_name == "option"
            for opt in param.opts}
    for path, opt in [(("run",), "--backend"), (("run",), "--judge-profile"), (("run",), "--per"),
                      (("run",), "--api-mode"), (("run",), "--engine"), (("run",), "--language"),
                      (("leaderboard",), "--format"), (("serve-rewards",), "--mode"),
                      (("serve-rewards",), "--cf-scoring"), (("problems", "validate"), "--backend"),
                      (("judge",), "--judge-profile"), (("doctor",), "--backend")]:
        param = flat[(path, opt)]
        assert param.type_descriptor.choices, f"{' '.join(path)} {opt} takes any string"
    bad = cli("leaderboard", "x", "--format", "html", cwd=tmp_path)
    assert bad.returncode == 2 and "'table', 'json', 'csv', 'md'" in bad.stderr


# -- validate -----------------------------------------------------------------------------------------------------

def test_validate_ends_with_n_of_n_ok(tmp_path: Path) -> None:
    res = cli("problems", "validate", str(PROBLEMS / "pairsum"), cwd=tmp_path,
              env={"IOI_EVAL_PROGRESS_INTERVAL": "0.2"})
    assert res.returncode == 0, res.stderr
    n = len(json.loads((PROBLEMS / "pairsum" / "solutions" / "expected.json").read_text()))
    assert res.stdout.splitlines()[-1] == f"{n}/{n} ok"
    assert f"progress: solutions {n}/{n} (100%)" in res.stderr
    assert "0 not as their category says" in res.stderr


def test_validate_counts_what_failed_and_exits_1(tmp_path: Path) -> None:
    pkg = shutil.copytree(PROBLEMS / "pairsum", tmp_path / "pairsum")
    expected = json.loads((pkg / "solutions" / "expected.json").read_text())
    wrong = next(k for k, v in expected.items() if k.startswith("model_solution"))
    expected[wrong] = 42.0
    (pkg / "solutions" / "expected.json").write_text(json.dumps(expected))
    res = cli("problems", "validate", str(pkg), "--json", cwd=tmp_path, env={"IOI_EVAL_PROGRESS_INTERVAL": "0.2"})
    assert res.returncode == 1
    n = len(expected)
    assert json.loads(res.stdout)[0]["problem"] == "pairsum"  # stdout stays JSON
    assert f"{n - 1}/{n} ok, 1 failed" in res.stderr.splitlines()
    assert f"progress: solutions {n}/{n} (100%)" in res.stderr and ", 1 not as their category says" in res.stderr


# -- runs: progress, verbosity, tables at several widths --------------------------------------------------------------

@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("cli-runs")
    return {name: make_run(root, name) for name in ("strong-model", "weak-model")}


def _rerun(run_dir: Path, *flags: str, columns: int = 80, env: dict | None = None) -> subprocess.CompletedProcess:
    """``ioi-eval run`` again on a fixture's run (a resume: nothing left to do, the summary is printed)."""
    src = run_dir.parent.parent / f"{run_dir.name}.jsonl"
    return cli(*flags, "run", "--model", str(src), "--engine", "replay", "--problems", str(PROBLEMS),
               "--only", "rainfall", "--only", "pairsum", "--samples", "3", "--run-dir", str(run_dir),
               cwd=run_dir.parent, columns=columns, env=env)


def test_progress_lines_off_a_terminal_and_verbosity(tmp_path: Path, runs) -> None:
    src = runs["weak-model"].parent.parent / "weak-model.jsonl"
    args = ("run", "--model", str(src), "--engine", "replay", "--problems", str(PROBLEMS), "--only", "rainfall",
            "--only", "pairsum", "--samples", "3")
    res = cli("-v", *args, "--run-dir", str(tmp_path / "a"), cwd=tmp_path, env={"IOI_EVAL_PROGRESS_INTERVAL": "0.1"})
    assert res.returncode == 0, res.stderr
    err = res.stderr.splitlines()
    assert f"run folder: {tmp_path / 'a'}" in err
    assert re.search(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d INFO ioi_eval\.run\.pipeline: 21 generation\(s\) to make",
                     res.stderr, re.M), res.stderr
    assert not [x for x in err if " DEBUG " in x]
    progress = [x for x in err if x.startswith("progress: ")]
    assert re.search(r"^progress: judge \d+/\d+ \(\d+%\), [\d.]+/s, elapsed \S+, ETA \S+, 0 judge errors$",
                     "\n".join(progress), re.M), progress  # an interval line while judging went on
    # 21 prompts x samples planned, one missing from the replay (a failed generation), three without code
    rows = [json.loads(x) for x in src.read_text().splitlines()]
    assert progress[-2].startswith("progress: generate 21/21 (100%), ") and progress[-2].endswith(", 1 failed")
    judged = int(re.match(r"progress: judge (\d+)/\1 \(100%\), ", progress[-1]).group(1))
    assert judged == len(rows) - sum(1 for r in rows if "```" not in r["text"]) == 17

    quiet = cli("-q", *args, "--run-dir", str(tmp_path / "b"), cwd=tmp_path,
                env={"IOI_EVAL_PROGRESS_INTERVAL": "0.1"})
    assert quiet.returncode == 0  # no progress, no run folder line, no log; the warning stays
    lines = quiet.stderr.splitlines()  # the replay's note on completions without code is a warning too
    assert len(lines) == 2 and lines[0].startswith("replay: 3 of 20 completions of ") and "no_code" in lines[0]
    assert lines[1] == "1 generation(s) failed for good (re-run to retry them)"
    assert "Total:" in quiet.stdout
    debug = cli("-vv", *args, "--run-dir", str(tmp_path / "c"), cwd=tmp_path)
    assert " DEBUG ioi_eval.run.pipeline: judged rainfall/" in debug.stderr
    bad = cli(*args, "--run-dir", str(tmp_path / "d"), cwd=tmp_path, env={"IOI_EVAL_PROGRESS_INTERVAL": "never"})
    assert bad.returncode == 2 and "IOI_EVAL_PROGRESS_INTERVAL" in bad.stderr and "Traceback" not in bad.stderr


def _assert_fits(text: str, width: int) -> None:
    lines = text.splitlines()
    assert lines and max(len(x) for x in lines) <= width, "\n".join(x for x in lines if len(x) > width)


@pytest.mark.parametrize("width", WIDTHS)
def test_run_summary_at_width(runs, width: int) -> None:
    res = _rerun(runs["strong-model"], columns=width)
    assert res.returncode == 0, res.stderr
    _assert_fits(res.stdout, width)
    summary = json.loads((runs["strong-model"] / "summary.json").read_text())
    seen = tokens(res.stdout)
    for p in summary["problems"]:
        assert p["problem"] in seen
        assert f"{p['score']:g}/{p['max_score']:g}" in seen  # numbers whole, never split over lines
        assert f"{p['mean_single']:.2f}" in seen
        for s in p["subtasks"]:
            if s["points"] > 0:
                assert f"{s['best']:g}/{s['points']:g}" in seen
    header = res.stdout.splitlines()[1:4]
    assert any(re.search(r"\bproblem\b", x) for x in header) and any(re.search(r"\bscore\b", x) for x in header)
    if width >= 120:
        assert "left out" not in res.stdout and "subtasks (best of selected)" in res.stdout


@pytest.mark.parametrize("width", WIDTHS)
def test_leaderboard_at_width(runs, width: int, tmp_path: Path) -> None:
    root = runs["strong-model"].parent
    dirs = ["strong-model", "weak-model"]
    res = cli("leaderboard", *dirs, cwd=root, columns=width)
    assert res.returncode == 0, res.stderr
    _assert_fits(res.stdout, width)
    board = json.loads(cli("leaderboard", *dirs, "--format", "json", cwd=root).stdout)
    seen = tokens(res.stdout)
    for e in board["entries"]:
        assert f"{e['total']:g}/{e['max_total']:g}" in seen
        assert f"{e['mean_single_total']:g}" in seen
        assert e["label"] in seen
        for p in e["problems"]:
            assert f"{p['score']:g}" in seen
    head = "\n".join(res.stdout.splitlines()[1:4])
    for word in ("model", "total", "rainfall", "pairsum"):
        assert re.search(rf"\b{word}\b", head), head
    if width == 200:  # room for each problem's mean and interval
        assert "(mean" in res.stdout and "left out" not in res.stdout
    if width == 80:
        assert "per problem: the IOI score" in res.stdout


# -- messages ------------------------------------------------------------------------------------------------------

def test_install_hints_keep_their_extra(tmp_path: Path) -> None:
    shadow = tmp_path / "shadow" / "vllm"  # vLLM "not installed", whatever this machine has
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError(\"No module named 'vllm'\")\n")
    env = {"PYTHONPATH": os.pathsep.join([str(tmp_path / "shadow"), *sys.path])}
    common = ("--model", "some/model", "--problems", str(PROBLEMS), "--only", "rainfall")
    for args in (("run", *common, "--run-dir", str(tmp_path / "r")),
                 ("ci", *common, "--run-dir", str(tmp_path / "c"), "--baseline", str(tmp_path / "b.json"),
                  "--init-baseline")):
        res = cli(*args, cwd=tmp_path, env=env)
        assert res.returncode == 2, res.stderr
        assert "pip install 'ioi-eval[vllm]'" in res.stderr, res.stderr


def test_hub_advice_names_the_installed_login_command(tmp_path: Path, runs) -> None:
    pytest.importorskip("datasets")
    from ioi_eval.hub import login_command

    env = {"HF_TOKEN": "", "HF_HOME": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "1"}
    res = cli("export", "cots", str(runs["strong-model"]), "--out", str(tmp_path / "cots"), "--push-to-hub",
              "someone/data", cwd=tmp_path, env=env)
    assert res.returncode == 2
    assert f"run `{login_command()}`" in res.stderr and str(tmp_path / "cots") in res.stderr
    assert (tmp_path / "cots" / "state.json").is_file()  # the local copy is kept
