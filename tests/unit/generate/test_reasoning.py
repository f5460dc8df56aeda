"""split_reasoning: traces kept apart from answers, whatever the tag style."""

from __future__ import annotations

import pytest

from ioi_eval.generate.reasoning import prompt_opens_reasoning, split_reasoning

CODE = "```cpp\nint main() { return 0; }\n```"


@pytest.mark.parametrize(("text", "expected"), [
    # plain answers are returned untouched
    ("just an answer\n", (None, "just an answer\n")),
    ("", (None, "")),
    # closed blocks of every style
    (f"<think>\nplan it\n</think>\n\n{CODE}", ("plan it", CODE)),
    (f"<thinking>plan</thinking>{CODE}", ("plan", CODE)),
    (f"<|begin_of_thought|>plan<|end_of_thought|>\n{CODE}", ("plan", CODE)),
    (f"<|begin_of_thought|>plan<|end_of_thought|><|begin_of_solution|>\n{CODE}\n<|end_of_solution|>",
     ("plan", CODE)),
    ("<THINK>upper</THINK>ok", ("upper", "ok")),
    # several blocks: all traces kept, none left in the answer
    ("<think>a</think>first <think>b</think>second", ("a\n\nb", "first second")),
    # an empty trace (thinking switched off) is no trace
    ("<think>\n\n</think>\n\nanswer", (None, "answer")),
    # the chat template opened the trace in the prompt: only the closing tag is generated
    (f"planning in the prompt's block\n</think>\n{CODE}", ("planning in the prompt's block", CODE)),
    # cut off while thinking: everything is reasoning, nothing is an answer
    ("<think>I will write ```cpp\nint main(){}\n``` and", ("I will write ```cpp\nint main(){}\n``` and", "")),
    ("<|begin_of_thought|>still going", ("still going", "")),
    ("<think>a</think> draft <think>cut", ("a\n\ndraft\n\ncut", "")),
])
def test_split_reasoning(text: str, expected: tuple[str | None, str]) -> None:
    assert split_reasoning(text) == expected


def test_mismatched_closing_tag_does_not_close() -> None:
    # "</thinking>" does not close "<think>": the trace is unfinished
    assert split_reasoning("<think>x</thinking> y") == ("x y", "")


def test_opened_by_prompt() -> None:
    # a prompt ending in "<think>" makes untagged text an unfinished trace ...
    assert split_reasoning("still thinking", opened=True) == ("still thinking", "")
    # ... and a closing tag ends it as usual
    assert split_reasoning("plan</think>answer", opened=True) == ("plan", "answer")
    assert split_reasoning("answer", opened=False) == (None, "answer")


def test_prompt_opens_reasoning() -> None:
    assert prompt_opens_reasoning("<|Assistant|><think>\n")
    assert prompt_opens_reasoning("assistant: <|begin_of_thought|>  ")
    assert not prompt_opens_reasoning("<|Assistant|>")
    assert not prompt_opens_reasoning("<think>done</think>")
