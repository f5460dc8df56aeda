"""The CI gate's reports: a Markdown summary (GitHub's step summary) and a JUnit XML file.

JUnit layout: one ``<testsuite>`` per gate run holding one ``<testcase>`` per problem
(classname ``ioi-eval.<problem>``, name ``<problem>``), one per subtask with points
(name ``<problem>/<subtask>``) and one for the total (name ``total``, the floor and total drop).
A regression is a ``<failure type="regression">``, an evaluation error an ``<error>``, a problem of
the baseline that was not evaluated is ``<skipped>``. Subtask test cases fail only when subtasks gate
the run (``--per-subtask``); otherwise their changes are in ``<system-out>``.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from .compare import GateResult, ProblemCheck, Status

_MARK = {Status.PASS: "✅ pass", Status.REGRESSED: "❌ regressed", Status.NEW: "🆕 new",
         Status.MISSING: "⏭️ not evaluated", Status.ERROR: "⚠️ error"}
_BAD_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_TITLE = {0: "✅ passed", 1: "❌ regressed", 2: "⚠️ evaluation error"}


def _num(x: float | None) -> str:
    return "–" if x is None else f"{x:g}"


def _delta(x: float | None) -> str:
    if x is None:
        return "–"
    return f"+{x:g}" if x > 0 else f"{x:g}"


def _xml(text: str) -> str:
    """Text without the characters XML 1.0 cannot hold (judge messages may carry any bytes)."""
    return _BAD_XML.sub("\ufffd", text)


def _cell(text: str) -> str:
    """Text made safe for a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_summary(gate: GateResult, *, baseline_path: str | None, run_folder: str | None) -> str:
    """The gate's result as GitHub-flavoured Markdown."""
    p = gate.policy
    lines = [f"## ioi-eval CI gate: {_TITLE[gate.exit_code]}", ""]
    against = f"baseline `{baseline_path}` (model `{gate.baseline_model}`)" if gate.baseline_model else "no baseline"
    lines.append(f"Model `{gate.model}` against {against}" + (f"; run folder `{run_folder}`" if run_folder else "")
                 + ".")
    lines.append("")
    rules = [f"max drop {p.max_drop:g} point(s) per {'subtask and ' if p.per_subtask else ''}problem"]
    if p.max_total_drop is not None:
        rules.append(f"max total drop {p.max_total_drop:g}")
    if p.min_score is not None:
        rules.append(f"floor {p.min_score:g}")
    if p.allow_errors:
        rules.append("evaluation errors allowed")
    lines += [f"Rules: {', '.join(rules)}.", ""]
    lines += ["| problem | baseline | current | Δ | max | status |", "|---|---:|---:|---:|---:|---|"]
    for c in gate.problems:
        lines.append(f"| {_cell(c.problem)} | {_num(c.baseline)} | {_num(c.current)} | {_delta(c.delta)} "
                     f"| {c.max_score:g} | {_MARK[c.status]} |")
    total_mark = "❌ total drop" if gate.total_regressed else ""
    if any(c.baseline is not None and c.current is not None for c in gate.problems):
        lines.append(f"| **compared total** | {gate.compared_baseline_total:g} | {gate.compared_current_total:g} "
                     f"| {_delta(gate.compared_delta)} | | {total_mark} |")
    floor = ""
    if p.min_score is not None:
        floor = f" (floor {p.min_score:g}: {'❌ under it' if gate.under_floor else '✅ held'})"
    lines += ["", f"Run total: **{gate.total:g}** / {gate.max_total:g}{floor}.", ""]
    subs = [(c, s) for c in gate.problems for s in c.subtasks]
    if subs:
        lines += ["<details><summary>Subtasks</summary>", "",
                  "| problem | subtask | points | baseline | current | Δ |", "|---|---|---:|---:|---:|---:|"]
        for c, s in subs:
            flag = " ❌" if s.regressed and p.per_subtask else " ↓" if s.delta is not None and s.delta < 0 else ""
            lines.append(f"| {_cell(c.problem)} | {_cell(s.name)} | {s.points:g} | {_num(s.baseline)} "
                         f"| {_num(s.current)} | {_delta(s.delta)}{flag} |")
        lines += ["", "</details>", ""]
    if gate.errors:
        lines.append("**Evaluation errors**" + (" (allowed by --allow-errors):" if p.allow_errors else ":"))
        lines += [f"- {_cell(e)}" for e in gate.errors[:50]]
        if len(gate.errors) > 50:
            lines.append(f"- … and {len(gate.errors) - 50} more")
        lines.append("")
    for note in gate.notes:
        lines.append(f"> {note}")
    return "\n".join(lines).rstrip() + "\n"


def error_summary(message: str, model: str) -> str:
    """The Markdown summary of a gate that could not evaluate at all."""
    return f"## ioi-eval CI gate: {_TITLE[2]}\n\nModel `{model}`: the evaluation failed.\n\n```\n{message}\n```\n"


def write_summary(text: str, path: Path | None) -> list[Path]:
    """Write the summary to ``path`` and append it to ``$GITHUB_STEP_SUMMARY`` when set; the files written."""
    written = []
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    step = os.environ.get("GITHUB_STEP_SUMMARY")
    if step:
        with open(step, "a", encoding="utf-8") as f:
            f.write(text + "\n")
        written.append(Path(step))
    return written


def _case(suite: ET.Element, classname: str, name: str) -> ET.Element:
    return ET.SubElement(suite, "testcase", classname=classname, name=name, time="0")


def _problem_case(suite: ET.Element, c: ProblemCheck, gate: GateResult) -> None:
    cls = f"ioi-eval.{c.problem}"
    case = _case(suite, cls, c.problem)
    if c.status == Status.MISSING:
        ET.SubElement(case, "skipped", message="in the baseline but not evaluated")
    elif c.status == Status.ERROR:
        err = ET.SubElement(case, "error", message=c.errors[0] if c.errors else "evaluation error",
                            type="evaluation-error")
        err.text = "\n".join(c.errors)
    elif c.status == Status.REGRESSED:
        fail = ET.SubElement(case, "failure", type="regression",
                             message=f"{c.problem}: {_num(c.current)} < baseline {_num(c.baseline)} "
                                     f"(Δ {_delta(c.delta)}, max drop {gate.policy.max_drop:g})")
        fail.text = "\n".join(f"{s.name}: {_num(s.baseline)} -> {_num(s.current)}" for s in c.subtasks
                              if s.delta is not None and s.delta < 0)
    out = ET.SubElement(case, "system-out")
    out.text = (f"score {_num(c.current)}/{c.max_score:g}, baseline {_num(c.baseline)}, Δ {_delta(c.delta)}"
                + ("".join(f"\n{e}" for e in c.errors) if c.errors and c.status != Status.ERROR else ""))
    for s in c.subtasks:
        sc = _case(suite, cls, f"{c.problem}/{s.name}")
        if c.status == Status.MISSING:
            ET.SubElement(sc, "skipped", message="problem not evaluated")
        elif s.regressed and gate.policy.per_subtask:
            ET.SubElement(sc, "failure", type="regression",
                          message=f"{c.problem}/{s.name}: {_num(s.current)} < baseline {_num(s.baseline)}")
        so = ET.SubElement(sc, "system-out")
        so.text = f"best {_num(s.current)}/{s.points:g}, baseline {_num(s.baseline)}, Δ {_delta(s.delta)}"


def junit_xml(gate: GateResult, *, name: str = "ioi-eval ci") -> ET.ElementTree:
    """The gate as a JUnit XML tree (see the module docstring for the layout)."""
    root = ET.Element("testsuites", name=name)
    suite = ET.SubElement(root, "testsuite", name=f"{name}: {gate.model}")
    props = ET.SubElement(suite, "properties")
    for key, value in (("model", gate.model), ("baseline_model", gate.baseline_model or ""),
                       ("max_drop", f"{gate.policy.max_drop:g}"), ("exit_code", str(gate.exit_code))):
        ET.SubElement(props, "property", name=key, value=value)
    for c in gate.problems:
        _problem_case(suite, c, gate)
    total = _case(suite, "ioi-eval", "total")
    if gate.general_errors:
        ET.SubElement(total, "error", type="evaluation-error", message=gate.general_errors[0])
    elif gate.under_floor:
        ET.SubElement(total, "failure", type="floor",
                      message=f"total {gate.total:g} is under the floor {gate.policy.min_score:g}")
    elif gate.total_regressed:
        ET.SubElement(total, "failure", type="regression",
                      message=f"total fell by {-gate.compared_delta:g} (max {gate.policy.max_total_drop:g})")
    ET.SubElement(total, "system-out").text = (f"total {gate.total:g}/{gate.max_total:g}; on the compared problems "
                                               f"{gate.compared_baseline_total:g} -> {gate.compared_current_total:g}")
    _count(root, suite)
    return ET.ElementTree(root)


def _count(root: ET.Element, suite: ET.Element) -> None:
    """Fill the tests/failures/errors/skipped attributes from the test cases."""
    cases = suite.findall("testcase")
    counts = {"tests": len(cases), "failures": sum(1 for c in cases if c.find("failure") is not None),
              "errors": sum(1 for c in cases if c.find("error") is not None),
              "skipped": sum(1 for c in cases if c.find("skipped") is not None)}
    for el in (root, suite):
        for k, v in counts.items():
            el.set(k, str(v))
        el.set("time", "0")


def error_junit(message: str, model: str, *, name: str = "ioi-eval ci") -> ET.ElementTree:
    """A JUnit tree for a gate that could not evaluate: one test case in error."""
    root = ET.Element("testsuites", name=name)
    suite = ET.SubElement(root, "testsuite", name=f"{name}: {model}")
    case = _case(suite, "ioi-eval", "evaluation")
    ET.SubElement(case, "error", type="evaluation-error", message=message.splitlines()[0] if message else "")
    case.find("error").text = message  # type: ignore[union-attr]
    _count(root, suite)
    return ET.ElementTree(root)


def write_junit(tree: ET.ElementTree, path: Path) -> None:
    """Write a JUnit tree with an XML declaration."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for el in tree.iter():
        if el.text:
            el.text = _xml(el.text)
        for k, v in el.attrib.items():
            el.set(k, _xml(v))
    ET.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)
