"""What each task type owns: its name, its validated parameters, takes_code and its prompt notes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ioi_eval.errors import IoiEvalError, JudgeError, PackageError
from ioi_eval.judge.task_types import (
    TASK_TYPES,
    Batch,
    Communication,
    OutputOnly,
    TaskParams,
    get_task_type,
    task_type_names,
)
from ioi_eval.judge.task_types.params import params_of
from ioi_eval.run.evaluate import evaluate
from ioi_eval.run.events import Progress
from ioi_eval.sources.loader import load_problem
from tests.conftest import PROBLEMS, write_package


def _root(tmp_path: Path, *graders: str) -> Path:
    """A package folder holding only the named ``graders/`` files."""
    root = tmp_path / "pkg"
    (root / "graders").mkdir(parents=True, exist_ok=True)
    for name in graders:
        (root / "graders" / name).write_text("// program\n")
    return root


def test_registry_is_the_list_of_names() -> None:
    assert list(TASK_TYPES) == ["Batch", "Communication", "OutputOnly"]
    for name, kind in TASK_TYPES.items():
        assert kind.name == name and isinstance(get_task_type(name), kind)
        assert issubclass(kind.Params, TaskParams)
    assert task_type_names() == "Batch, Communication or OutputOnly"
    assert get_task_type("Communication") is not get_task_type("Communication")  # fresh: it keeps state


def test_takes_code() -> None:
    assert (Batch.takes_code, Communication.takes_code, OutputOnly.takes_code) == (True, True, False)
    assert (Batch.needs_expected_output, Communication.needs_expected_output) == (True, False)


# -- parameters ------------------------------------------------------------------------------------


def test_batch_params_defaults_and_values(tmp_path: Path) -> None:
    where = tmp_path / "problem.json"
    params = Batch.load_params({}, _root(tmp_path), where)
    assert isinstance(params, Batch.Params) and params.compilation == "alone"
    assert (params.input_file, params.output_file, params.num_processes) == ("", "", 1)
    with_grader = Batch.load_params({"input_file": "in.txt", "other_tool_key": 3}, _root(tmp_path / "g", "grader.py"),
                                    where)
    assert (with_grader.compilation, with_grader.input_file) == ("grader", "in.txt")
    alone = Batch.load_params({"compilation": "alone"}, _root(tmp_path / "a", "grader.cpp"), where)
    assert alone.compilation == "alone"


@pytest.mark.parametrize(
    ("values", "needle"),
    [
        ({"compilation": "linked"}, "bad task_type_params: 'compilation': Input should be 'alone', 'grader' or 'stub'"),
        ({"num_processes": "many"}, "bad task_type_params"),
        ({"interactor": "kattis"}, "a kattis interactor needs a Communication task with one process"),
    ],
)
def test_batch_params_errors_name_the_file(tmp_path: Path, values: dict, needle: str) -> None:
    where = tmp_path / "problem.json"
    with pytest.raises(PackageError, match=needle) as err:
        Batch.load_params(values, _root(tmp_path), where)
    assert str(err.value).startswith(f"{where}: ")


def test_communication_params(tmp_path: Path) -> None:
    where = tmp_path / "problem.json"
    root = _root(tmp_path, "manager.cpp")
    params = Communication.load_params({}, root, where)
    assert isinstance(params, Communication.Params)
    assert (params.compilation, params.num_processes, params.user_io, params.interactor) == ("stub", 1, "std_io", "cms")
    params = Communication.load_params({"num_processes": 2, "user_io": "fifo_io"}, root, where)
    assert (params.num_processes, params.user_io) == (2, "fifo_io")
    kattis = Communication.load_params({"interactor": "kattis", "compilation": "alone"}, _root(tmp_path / "p",
                                                                                              "manager.py"), where)
    assert (kattis.interactor, kattis.compilation) == ("kattis", "alone")


@pytest.mark.parametrize(
    ("values", "needle"),
    [
        ({"user_io": "pipes"}, "bad task_type_params: 'user_io': Input should be 'std_io' or 'fifo_io'"),
        ({"interactor": "custom"}, "bad task_type_params"),
        ({"interactor": "testlib", "num_processes": 2}, "a testlib interactor needs a Communication task with one"),
    ],
)
def test_communication_params_errors(tmp_path: Path, values: dict, needle: str) -> None:
    where = tmp_path / "problem.json"
    with pytest.raises(PackageError, match=needle) as err:
        Communication.load_params(values, _root(tmp_path, "manager.cpp"), where)
    assert str(err.value).startswith(f"{where}: ")


def test_communication_needs_a_manager(tmp_path: Path) -> None:
    root = _root(tmp_path, "stub.cpp")
    with pytest.raises(PackageError, match=r"graders/manager\.cpp: a Communication task needs a manager"):
        Communication.load_params({}, root, tmp_path / "problem.json")


def test_output_only_params(tmp_path: Path) -> None:
    where = tmp_path / "problem.json"
    assert isinstance(OutputOnly.load_params({}, _root(tmp_path), where), OutputOnly.Params)
    with pytest.raises(PackageError, match="a testlib interactor needs a Communication task"):
        OutputOnly.load_params({"interactor": "testlib"}, _root(tmp_path), where)


def test_loader_validates_through_the_task_type(sum_package: Path) -> None:
    p = load_problem(sum_package)
    assert type(p.params) is Batch.Params and params_of(p, Batch.Params) is p.params
    meta_path = sum_package / "problem.json"
    meta = json.loads(meta_path.read_text())
    meta["task_type_params"] = {"task_type_parameters_Batch_compilation": "linked"}
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(PackageError, match=r"problem\.json: bad task_type_params") as err:
        load_problem(sum_package)
    assert str(meta_path) in str(err.value)


def test_params_of_refuses_another_task_types_params(sum_package: Path) -> None:
    p = load_problem(sum_package)
    with pytest.raises(JudgeError, match="Communication"):
        params_of(p, Communication.Params)


# -- prompt notes ----------------------------------------------------------------------------------


def test_prompt_notes_batch() -> None:
    towers = load_problem(PROBLEMS / "towers")  # compiled with graders/grader.cpp or grader.py
    cpp = get_task_type("Batch").prompt_notes(towers, "cpp")
    assert (cpp.kind, cpp.harness, cpp.harness_file, cpp.show_header) == (
        "grader", "grader", towers.root / "graders" / "grader.cpp", True)
    assert get_task_type("Batch").prompt_notes(towers, "python").harness_file == towers.root / "graders" / "grader.py"
    rainfall = load_problem(PROBLEMS / "rainfall")
    notes = get_task_type("Batch").prompt_notes(rainfall, "cpp")
    assert (notes.kind, notes.harness, notes.harness_file) == ("program", None, None)


def test_prompt_notes_batch_file_io(sum_package: Path) -> None:
    meta_path = sum_package / "problem.json"
    meta = json.loads(meta_path.read_text())
    meta["task_type_params"] = {"input_file": "sum.in", "output_file": "sum.out"}
    meta_path.write_text(json.dumps(meta))
    notes = Batch().prompt_notes(load_problem(sum_package), "python")
    assert (notes.kind, notes.input_file, notes.output_file) == ("program", "sum.in", "sum.out")


def test_prompt_notes_communication(tmp_path: Path) -> None:
    relay = load_problem(PROBLEMS / "relay")  # a stub in C++ only, two processes
    cpp, python = (Communication().prompt_notes(relay, lang) for lang in ("cpp", "python"))
    assert (cpp.kind, cpp.harness, cpp.harness_file, cpp.num_processes) == (
        "communication", "stub", relay.root / "graders" / "stub.cpp", 2)
    assert (python.harness, python.harness_file) == ("stub", None)  # not solvable in Python
    interactive = load_problem(write_package(
        tmp_path / "echo",
        problem={"code": "echo", "name": "Echo", "time_limit": 1.0, "memory_limit": 64 << 20,
                 "task_type": "Communication", "task_type_params": {"compilation": "alone"}},
        subtasks={"01": {"score": 100, "testcases": ["1"]}}, tests={"1": ("1\n", "1\n")},
        files={"graders/manager.cpp": "int main() {}\n"}))
    notes = Communication().prompt_notes(interactive, "cpp")
    assert (notes.kind, notes.harness, notes.harness_file) == ("interactive", None, None)


def test_prompt_notes_output_only() -> None:
    dominoes = load_problem(PROBLEMS / "dominoes")
    notes = OutputOnly().prompt_notes(dominoes, "cpp")
    assert (notes.kind, notes.harness, notes.show_header) == ("output_only", None, False)


def test_prompt_notes_check_the_params_type(sum_package: Path) -> None:
    with pytest.raises(JudgeError):
        OutputOnly().prompt_notes(load_problem(sum_package), "cpp")


# -- takes_code in a run ---------------------------------------------------------------------------


def test_model_runs_skip_problems_that_take_no_code(tmp_path: Path) -> None:
    notes: list[str] = []
    with pytest.raises(IoiEvalError, match="no problems to evaluate"):
        evaluate(model="m", problems=str(PROBLEMS), engine="replay", engine_options={}, samples=1, per="problem",
                 language="cpp", only=["dominoes"], temperature=0.0, top_p=1.0, max_tokens=None, seed=0,
                 prompt_template=None, run_dir=tmp_path / "run", new_run=False, backend="local", workers=1,
                 progress=Progress(on_note=notes.append))
    assert notes == ["skipping output-only problems (models answer with code): dominoes"]
