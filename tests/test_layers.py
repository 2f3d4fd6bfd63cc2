"""The architecture as a test: a DAG of packages over a stdlib-only base layer.

Imports are read from the source with `ast`, including those inside functions
(an import deferred for start-up time is still a dependency), so a cycle cannot
hide behind a lazy import.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("foundation", "profiles", "scenarios", "target_api", "seed_data", "locustfiles", "analysis", "careerload")
BASE = "foundation"
TOP = "careerload"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Every project module `path` imports, at module level or inside functions."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # `from pkg import mod` imports pkg.mod when that is a module.
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        else:
            continue
        found.update(name for name in names if name.split(".")[0] in PACKAGES)
    return found


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(path): path for package in PACKAGES for path in (ROOT / package).rglob("*.py")}
    return {name: {imp for imp in _imports(path) if imp in modules and imp != name}
            for name, path in modules.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the directed graph, as a path that returns to its start; None when it is a DAG."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def _package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    packages: dict[str, set[str]] = {package: set() for package in PACKAGES}
    for module, imported in graph.items():
        top = module.split(".")[0]
        packages[top].update(imp.split(".")[0] for imp in imported if imp.split(".")[0] != top)
    return packages


def test_the_module_graph_has_no_cycle() -> None:
    assert _cycle(_graph()) is None, f"import cycle: {' -> '.join(_cycle(_graph()) or [])}"


def test_the_package_graph_has_no_cycle() -> None:
    packages = _package_graph(_graph())
    assert _cycle(packages) is None, f"package cycle: {' -> '.join(_cycle(packages) or [])}"


def test_the_base_layer_imports_no_project_package_and_only_the_stdlib() -> None:
    for path in (ROOT / BASE).rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert top == BASE or top == "__future__" or top in sys.stdlib_module_names, \
                    f"{path.relative_to(ROOT)} imports {name}: the base layer is stdlib only"


@pytest.mark.parametrize("package", [p for p in PACKAGES if p != TOP])
def test_nothing_imports_the_commands(package: str) -> None:
    importers = sorted(module for module, imported in _graph().items()
                       if module.split(".")[0] == package and any(i.split(".")[0] == TOP for i in imported))
    assert not importers, f"{importers} import the {TOP} command package"


def test_a_locust_worker_imports_no_faker_numpy_or_pydantic() -> None:
    """What `locust -f locustfiles` loads on every worker: the personas, the plugin, the shape."""
    code = ("import sys, locustfiles.locustfile; "
            "print(' '.join(m for m in ('faker', 'numpy', 'pydantic') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"importing locustfiles pulls in {out.stdout.strip()}"


def test_the_cycle_finder_finds_a_cycle() -> None:
    """The checks above pass on a DAG only because the finder can fail."""
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_options_sent_to_workers_are_plain_values() -> None:
    """Locust ships parsed options to workers in msgpack spawn messages: a Path there stops every spawn."""
    from foundation.options import LOCUST_OPTIONS

    for option in LOCUST_OPTIONS:
        assert option.type in (None, int, float, str), f"--{option.dest} has type {option.type}"
        assert option.default is None or type(option.default) in (int, float, str, bool), option.dest
