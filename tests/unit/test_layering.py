"""The import graph of ioi_eval has no cycle, between files or between packages (issue: one owner per contract).

Every import counts, also the lazy ones inside functions (they are dependencies all the same); only imports under
``if TYPE_CHECKING:`` are left out, since they never run. The in-box package ``ioi_box`` imports nothing of
``ioi_eval``.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "ioi_eval"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node except what sits under ``if TYPE_CHECKING:``."""
    out: list[ast.AST] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        out.append(node)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                stack.extend(child.orelse)
                continue
            stack.append(child)
    return out


def import_graph(root: Path = SRC, package: str = "ioi_eval") -> dict[str, set[str]]:
    """Module -> the modules of ``package`` it imports (resolved to existing modules)."""
    files = {(_module_name(p)): p for p in root.rglob("*.py")}
    graph: dict[str, set[str]] = defaultdict(set)
    for mod, path in files.items():
        is_pkg = path.name == "__init__.py"
        here = mod.split(".") if is_pkg else mod.split(".")[:-1]
        for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom):
                base = here[: len(here) - node.level + 1] if node.level else []
                target = ".".join([*base, node.module] if node.module else base)
                targets = [target] + [f"{target}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            for t in targets:
                if t.split(".")[0] != package:
                    continue
                while t and t not in files:  # `from pkg import name` names an attribute, not a module
                    t = t.rpartition(".")[0]
                if t and t != mod:
                    graph[mod].add(t)
    for mod in files:
        graph.setdefault(mod, set())
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` (as a path that returns to its start), or None."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        path.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                return [*path[path.index(m):], m]
            if m not in state and (found := visit(m)):
                return found
        path.pop()
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state and (found := visit(n)):
            return found
    return None


def _package(module: str) -> str:
    """The package a module belongs to: ``ioi_eval.x`` for ``ioi_eval.x.y.z`` (a top-level module is its own)."""
    return ".".join(module.split(".")[:2])


def _own_init(module: str, target: str) -> bool:
    """``target`` is a package that holds ``module`` (a submodule using its package's ``__init__``), or the
    other way round (an ``__init__`` re-exporting its own submodules): one unit, not two contracts."""
    return module.startswith(target + ".") or target.startswith(module + ".")


def test_no_cycle_between_files() -> None:
    graph = import_graph()
    files = {m: {t for t in ts if not _own_init(m, t)} for m, ts in graph.items()}
    assert _cycle(files) is None, " -> ".join(_cycle(files) or [])


def test_no_cycle_between_packages() -> None:
    packages: dict[str, set[str]] = defaultdict(set)
    for mod, targets in import_graph().items():
        for t in targets:
            if _package(t) != _package(mod) and _package(t) != "ioi_eval":
                packages[_package(mod)].add(_package(t))
    assert _cycle(packages) is None, " -> ".join(_cycle(packages) or [])


def test_in_box_side_imports_nothing_of_the_host_side() -> None:
    box = REPO / "sandbox" / "ioi_box"
    bad = [f"{path.name}: {ast.unparse(node)}" for path in sorted(box.rglob("*.py"))
           for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
           if (isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "ioi_eval")
           or (isinstance(node, ast.Import) and any(a.name.split(".")[0] == "ioi_eval" for a in node.names))]
    assert not bad, bad


def test_the_graph_sees_imports() -> None:
    """The checks above are only worth something if the graph finds real edges, lazy ones included."""
    graph = import_graph()
    assert "ioi_eval.judge.judge" in graph["ioi_eval.cli.judge"]  # imported inside the command function
    assert "ioi_eval.errors" in graph["ioi_eval.judge.compiler"]
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
