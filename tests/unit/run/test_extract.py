"""Code extraction from completions: which block is taken, reasoning, headers, and junk input."""

from __future__ import annotations

import random
import time

import pytest

from ioi_eval.problem.model import Problem
from ioi_eval.run.extract import Extraction, extract_code
from ioi_eval.sources.loader import load_problem
from tests.conftest import PROBLEMS


@pytest.fixture(scope="module")
def towers() -> Problem:
    return load_problem(PROBLEMS / "towers")


@pytest.fixture(scope="module")
def rainfall() -> Problem:
    return load_problem(PROBLEMS / "rainfall")


def test_last_block_wins() -> None:
    text = "First try:\n```cpp\nint a;\n```\nBetter:\n```cpp\nint b;\n```\nDone."
    ex = extract_code(text, "cpp")
    assert ex == Extraction(code="int b;\n", status="ok", note="")
    assert ex.ok


@pytest.mark.parametrize("tag", ["cpp", "c++", "C++", "cc", "cxx", "cpp17", "CPP"])
def test_cpp_tags(tag: str) -> None:
    ex = extract_code(f"Answer:\n```{tag}\nint main() {{}}\n```\n", "cpp")
    assert ex.code == "int main() {}\n"


@pytest.mark.parametrize("tag", ["python", "py", "python3", "Python", "PY"])
def test_python_tags(tag: str) -> None:
    ex = extract_code(f"```{tag}\nprint(1)\n```", "python")
    assert ex.code == "print(1)\n"


def test_block_of_the_other_language_is_not_taken() -> None:
    text = "```cpp\nint x;\n```\n```python\nprint(2)\n```"
    assert extract_code(text, "cpp").code == "int x;\n"  # the last *cpp* block, not the last block
    assert extract_code(text, "python").code == "print(2)\n"
    ex = extract_code("```python\nprint(2)\n```", "cpp")
    assert ex.status == "no_code" and ex.code is None
    assert "python" in ex.note


def test_unclosed_final_fence() -> None:
    text = "Here it is:\n```cpp\n#include <cstdio>\nint main() { puts(\"hi\"); }\n"
    ex = extract_code(text, "cpp")
    assert ex.code == '#include <cstdio>\nint main() { puts("hi"); }\n'
    assert "unclosed" in ex.note


def test_complete_block_preferred_to_truncated_final_one() -> None:
    text = "```cpp\nint full() { return 1; }\n```\nLet me refine:\n```cpp\nint trunc() { ret"
    assert extract_code(text, "cpp").code == "int full() { return 1; }\n"


def test_fences_glued_to_text() -> None:
    assert extract_code("```cpp\nint main() {}```\n", "cpp").code == "int main() {}\n"
    assert extract_code("Here it is: ```cpp\nint a;\n```\n", "cpp").code == "int a;\n"
    assert extract_code("Code: ```python\nx = 1\n```\nand ```cpp\nint b;}```", "cpp").code == "int b;}\n"
    # inline ```python``` in prose is not a fence
    assert extract_code("Use ```python``` blocks.\n```python\nx = 2\n```", "python").code == "x = 2\n"


def test_fence_with_info_string_and_indentation() -> None:
    assert extract_code('```cpp title="sol.cpp"\nint a;\n```', "cpp").code == "int a;\n"
    assert extract_code("1. Code:\n   ```python\n   x = 1\n   ```\n", "python").code == "   x = 1\n"
    assert extract_code("````cpp\nint a;\n```\nstill code\n````\n", "cpp").code == "int a;\n```\nstill code\n"
    assert extract_code("~~~cpp\nint t;\n~~~\n", "cpp").code == "int t;\n"


def test_reasoning_stripped() -> None:
    text = "<think>\nMaybe:\n```cpp\nint wrong;\n```\n</think>\nFinal:\n```cpp\nint right;\n```"
    ex = extract_code(text, "cpp")
    assert ex.code == "int right;\n"
    assert "reasoning" in ex.note
    # code only inside the reasoning is no answer
    assert extract_code("<think>```cpp\nint x;\n```</think>\nI could not solve it.", "cpp").status == "no_code"
    # a template that put <think> in the prompt: only the closing tag is in the completion
    assert extract_code("reasoning...\n</think>\n```py\nx = 1\n```", "python").code == "x = 1\n"


def test_unclosed_think_is_no_code() -> None:
    ex = extract_code("<think>\nLet me think about it\n```cpp\nint half;\n```\nhmm", "cpp")
    assert ex.status == "no_code" and ex.code is None
    assert "<think>" in ex.note


def test_think_tag_inside_code_is_code() -> None:
    text = '```python\nprint("<think>")\n```'
    assert extract_code(text, "python").code == 'print("<think>")\n'


def test_untagged_block_only_when_it_looks_like_the_language() -> None:
    cpp = "Solution:\n```\n#include <bits/stdc++.h>\nint main() {}\n```\nSample:\n```\n3\n1 2 3\n```"
    ex = extract_code(cpp, "cpp")
    assert ex.code == "#include <bits/stdc++.h>\nint main() {}\n" and "untagged" in ex.note
    assert extract_code(cpp, "python").status == "no_code"  # C++ does not look like Python
    py = "```\nimport sys\ndef main():\n    pass\n```"
    assert extract_code(py, "python").code == "import sys\ndef main():\n    pass\n"
    assert extract_code(py, "cpp").status == "no_code"
    assert extract_code("```\n3\n1 2 3\n```", "cpp").status == "no_code"
    # a tagged block beats an untagged one that comes later
    assert extract_code("```cpp\nint a;\n```\n```\n#include <x>\n```", "cpp").code == "int a;\n"


def test_header_include_added_only_when_missing(towers: Problem, rainfall: Problem) -> None:
    ex = extract_code("```cpp\n#include <vector>\nstd::vector<int> relay(std::vector<int> H) { return H; }\n```",
                      "cpp", towers)
    assert ex.code is not None and ex.code.startswith('#include "towers.h"\n#include <vector>\n')
    assert "towers.h" in ex.note
    for present in ('#include "towers.h"', "#include <towers.h>", '#  include "towers.h"'):
        ex = extract_code(f"```cpp\n{present}\nint x;\n```", "cpp", towers)
        assert ex.code == f"{present}\nint x;\n"
        assert ex.code.count("towers.h") == 1
    # no header in the package (stdin/stdout problem), or Python: nothing added
    assert extract_code("```cpp\nint main() {}\n```", "cpp", rainfall).code == "int main() {}\n"
    assert extract_code("```python\ndef relay(H):\n    return H\n```", "python", towers).code == (
        "def relay(H):\n    return H\n")


def test_no_code_is_not_an_exception() -> None:
    for text in ("", "   \n", "I cannot solve this problem.", "```\n```", "```cpp\n\n```", "</think>"):
        ex = extract_code(text, "cpp")
        assert ex == Extraction(code=None, status="no_code", note=ex.note)
        assert ex.note


def test_crlf_normalised() -> None:
    ex = extract_code("```cpp\r\nint a;\r\nint b;\r\n```\r\n", "cpp")
    assert ex.code == "int a;\nint b;\n"


def test_unknown_language_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown language"):
        extract_code("```rust\nfn main(){}\n```", "rust")


def _timed(text: str, language: str, problem: Problem | None = None) -> tuple[Extraction, float]:
    start = time.perf_counter()
    ex = extract_code(text, language, problem)
    return ex, time.perf_counter() - start


def test_garbage_input_is_fast(towers: Problem) -> None:
    rng = random.Random(7)
    junk = bytes(rng.getrandbits(8) for _ in range(1 << 20)).decode("latin-1") * 10  # 10 MiB of binary junk
    for lang in ("cpp", "python"):
        ex, took = _timed(junk, lang, towers)
        assert ex.status in ("ok", "no_code")
        assert took < 3.0, f"{took:.2f}s on 10 MiB of junk"
    # 10 MB of prose with a real answer at the end
    prose = ("The answer is obvious if you think about it. " * 220_000) + "\n```cpp\nint main() {}\n```\n"
    ex, took = _timed(prose, "cpp")
    assert ex.code == "int main() {}\n" and took < 3.0


@pytest.mark.parametrize("text", [
    "`" * 5_000_000 + "x" + "`" * 5_000_000,            # one huge line of backticks
    " " * 10_000_000 + "x```",                          # whitespace then a fence at the line end
    "```cpp\n" + "x```y\n" * 1_500_000,                 # a block whose lines almost close it
    "```cpp\nint x;\n" * 600_000,                       # fences that open inside an open block
    "a```b\n" * 1_500_000,                              # inline backticks everywhere
    "<think>" * 1_000_000,                              # an unclosed reasoning tag, repeated
    "\n" * 10_000_000,
], ids=["backticks", "spaces", "near-closes", "nested-opens", "inline", "think", "newlines"])
def test_pathological_input_is_linear(text: str) -> None:
    for lang in ("cpp", "python"):
        ex, took = _timed(text, lang)
        assert ex.status in ("ok", "no_code")
        assert took < 10.0, f"{took:.2f}s"  # linear: ~1-2 s; a quadratic scan would take hours


def test_many_fences_stay_linear() -> None:
    # 10 MB of empty blocks: every line is a fence. Linear but the slowest shape (about 1 µs a line).
    ex, took = _timed("```\n" * 2_500_000 + "```cpp\nint z;\n```\n", "cpp")
    assert ex.code == "int z;\n"
    assert took < 20.0, f"{took:.2f}s"


def test_bare_code_without_a_fence_is_taken_whole() -> None:
    cpp = "#include <bits/stdc++.h>\nusing namespace std;\nint main() { return 0; }\n"
    ex = extract_code(cpp, "cpp")
    assert ex.code == cpp and ex.note == "bare code (no fence)"
    py = "\n# read the input\nimport sys\n\ndef main():\n    print(sum(map(int, sys.stdin.read().split())))\n"
    assert extract_code(py, "python").code == py.lstrip("\n")
    assert extract_code(py, "cpp").status == "no_code"  # Python is no C++
    assert extract_code(cpp, "python").status == "no_code"
    # after the reasoning, too
    assert extract_code(f"<think>plan</think>\n{cpp}", "cpp").code == cpp
    # prose that quotes a line of code is not code, nor is code after prose
    prose = "You would start with\n#include <vector>\nand then loop."
    assert extract_code(prose, "cpp").status == "no_code"
    # any fence in the text: the fence rules decide, never the whole text
    assert extract_code(cpp + "```\n3\n```\n", "cpp").status == "no_code"
