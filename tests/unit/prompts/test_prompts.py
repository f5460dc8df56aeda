"""Prompts: every bundled kind of problem gets its statement, limits, subtasks, interface and instructions."""

from __future__ import annotations

from pathlib import Path

import pytest

from ioi_eval.errors import PromptError
from ioi_eval.problem.model import Problem
from ioi_eval.prompts import TEMPLATES_DIR, build_prompt, default_template, supported_languages
from ioi_eval.sources.loader import load_problem
from tests.conftest import PROBLEMS, REPO, write_package


def _load(code: str) -> Problem:
    return load_problem(PROBLEMS / code)


def _user(messages: list[dict[str, str]]) -> str:
    assert [m["role"] for m in messages] == ["system", "user"]
    assert all(m["content"].strip() for m in messages)
    return messages[1]["content"]


@pytest.mark.parametrize(("code", "language"), [
    ("rainfall", "cpp"), ("rainfall", "python"), ("towers", "cpp"), ("towers", "python"),
    ("summit", "cpp"), ("relay", "cpp"), ("dominoes", "cpp"), ("pairsum", "python"), ("provisions", "cpp"),
])
def test_prompt_has_statement_limits_subtasks_and_instruction(code: str, language: str) -> None:
    problem = _load(code)
    target = problem.subtasks[-1]
    text = _user(build_prompt(problem, target, language))
    assert problem.statement is not None
    assert problem.statement.strip() in text
    assert "Time limit: 1 second per test" in text
    assert "Memory limit: 256 MiB" in text
    for st in problem.subtasks:
        points = "the examples, 0 points" if st.points == 0 else f"{int(st.points)} points"
        assert f"(`{st.name}`): {points}" in text
    assert f"(`{target.name}`): {int(target.points)} points  ← your target" in text
    assert text.count("← your target") == 1
    fence = "```cpp" if language == "cpp" else "```python"
    assert f"exactly one {fence} code block" in text
    assert "open any file" in text


def test_stdio_problem_says_program_and_has_no_interface() -> None:
    text = _user(build_prompt(_load("rainfall"), None, "cpp"))
    assert "reads the input from standard input and writes the output to standard output" in text
    assert "# Interface" not in text
    assert "main" not in text.split("# Your answer")[1]


def test_grader_problem_shows_header_signature() -> None:
    problem = _load("towers")
    text = _user(build_prompt(problem, problem.subtasks[1], "cpp"))
    assert "std::vector<int> relay(std::vector<int> H);" in text
    assert "# Interface (`graders/towers.h`)" in text
    assert "do not write a `main` function" in text
    assert 'Include `"towers.h"`' in text
    assert "Do not read from standard input, write to standard output, or open any file." in text
    # subtask 1 is not the general problem: the model is told it need not solve it
    assert "Your target is subtask 1 (20 points): your solution must be correct and fast enough under" in text
    assert "it does not need to handle other inputs" in text
    full = _user(build_prompt(problem, problem.subtasks[3], "cpp"))  # its tests include every other test
    assert "Your target is subtask 3 (50 points): the general problem" in full


def test_python_grader_prompt_names_module_and_functions() -> None:
    text = _user(build_prompt(_load("towers"), None, "python"))
    assert "std::vector<int> relay(std::vector<int> H);" in text
    assert "imports your file as the Python module `towers` and uses: `relay`" in text
    assert "```python code block" in text
    assert "Solve the whole problem (100 points)" in text
    assert "← your target" not in text


def test_communication_prompts() -> None:
    summit = _load("summit")
    text = _user(build_prompt(summit, summit.subtasks[2], "cpp"))
    assert "int find_summit(int N);" in text and "int altitude(int i);" in text
    assert "# Interface (`graders/summit.h`)" in text
    assert "grader that interacts with you through the procedures" in text
    assert "Your target is subtask 2 (80 points): your solution must be correct" in text
    relay = _load("relay")
    text = _user(build_prompt(relay, relay.subtasks[1], "cpp"))
    assert "run as 2 separate processes" in text
    assert "void encode(int N, std::vector<int> P);" in text
    assert "std::vector<int> decode(int N, std::vector<int> bits);" in text


def test_output_only_prompt_asks_for_a_program_run_per_input() -> None:
    problem = _load("dominoes")
    text = _user(build_prompt(problem, problem.subtasks[0], "cpp"))
    assert "output-only task" in text
    assert "run once on each input file" in text
    # no samples subtask: numbering starts at 1, as in the statement
    assert "- Subtask 1 (`01-small`): 20 points  ← your target" in text
    assert "# Interface" not in text


def test_python_unsupported_without_python_harness() -> None:
    summit = _load("summit")
    assert supported_languages(summit) == ("cpp",)
    assert supported_languages(_load("towers")) == ("cpp", "python")
    assert supported_languages(_load("rainfall")) == ("cpp", "python")
    with pytest.raises(PromptError, match=r"stub\.py"):
        build_prompt(summit, None, "python")


def test_unknown_language_and_foreign_subtask() -> None:
    towers, summit = _load("towers"), _load("summit")
    with pytest.raises(PromptError, match="unknown language"):
        build_prompt(towers, None, "rust")
    with pytest.raises(PromptError, match="no subtask named"):
        build_prompt(towers, summit.subtasks[1], "cpp")
    assert build_prompt(towers, None, "c++") == build_prompt(towers, None, "cpp")


def test_missing_statement_is_said(tmp_path: Path) -> None:
    root = write_package(
        tmp_path / "nostmt",
        problem={"code": "nostmt", "name": "No Statement", "time_limit": 2.5, "memory_limit": 1 << 30,
                 "task_type": "Batch"},
        subtasks={"01-all": {"score": 100, "testcases": ["1"]}},
        tests={"1": ("1\n", "1\n")})
    problem = load_problem(root)
    text = _user(build_prompt(problem, None, "cpp"))
    assert "No statement is available" in text and "statement.md" in text
    assert "Time limit: 2.5 seconds per test. Memory limit: 1024 MiB." in text
    assert "- Subtask 1 (`01-all`): 100 points" in text


def test_custom_template_overrides(tmp_path: Path) -> None:
    template = tmp_path / "mine.j2"
    template.write_text(
        '{% import "_ioi.j2" as ioi with context %}'
        '{% call message("system") %}{% endcall %}'
        '{% call message("user") %}CUSTOM {{ problem.code }} {{ language.fence }} {{ time_limit_text }} '
        '{{ memory_limit_text }} {{ target.number }}/{{ target.points }}\n{{ header.content }}\n'
        '{{ ioi.subtasks_section() | trim }}{% endcall %}')
    problem = _load("towers")
    messages = build_prompt(problem, problem.subtasks[2], "cpp", template)
    assert [m["role"] for m in messages] == ["user"]  # an empty system message is left out
    text = messages[0]["content"]
    assert text.startswith("CUSTOM towers cpp 1 second 256 MiB 2/30\n")
    assert "std::vector<int> relay(std::vector<int> H);" in text
    assert "← your target" in text
    assert problem.statement is not None and problem.statement not in text


def test_plain_template_is_the_user_message(tmp_path: Path) -> None:
    template = tmp_path / "plain.j2"
    template.write_text("Solve {{ problem.name }} in {{ language.display }}.\n")
    messages = build_prompt(_load("rainfall"), None, "python", template)
    assert messages == [{"role": "user", "content": "Solve Rainfall Log in Python 3."}]


def test_template_errors_are_prompt_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.j2"
    bad.write_text("{{ no_such_variable }}")
    with pytest.raises(PromptError, match=r"bad\.j2"):
        build_prompt(_load("rainfall"), None, "cpp", bad)
    broken = tmp_path / "broken.j2"
    broken.write_text("{% if %}")
    with pytest.raises(PromptError, match=r"broken\.j2"):
        build_prompt(_load("rainfall"), None, "cpp", broken)
    with pytest.raises(PromptError, match="not found"):
        build_prompt(_load("rainfall"), None, "cpp", tmp_path / "missing.j2")


def test_default_templates_ship_with_the_package() -> None:
    assert default_template("cpp") == TEMPLATES_DIR / "ioi_cpp.j2"
    assert default_template("python").is_file()
    assert (TEMPLATES_DIR / "_ioi.j2").is_file()
    pyproject = (REPO / "pyproject.toml").read_text()
    assert '"prompts/templates/*"' in pyproject
