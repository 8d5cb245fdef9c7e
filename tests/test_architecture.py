"""The package's shape: imports point one way, the Jupyter layer and the server use public
runtime names only, and the store and server load without Qiskit.

Every module of ``qrt_jupyter`` is parsed: all imports count, function-local ones included
(they are dependencies all the same), except those under ``if TYPE_CHECKING:``. Importing
``a.b.c`` executes ``a/__init__`` and ``a/b/__init__`` too; only edges to the named module
are drawn, since a package ``__init__`` that imports things has its own edges.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "qrt_jupyter"


def _modules(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file under the package ``root``."""
    out = {}
    for path in root.rglob("*.py"):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(module: str, path: Path, known: set[str]) -> list[tuple[str, str, int]]:
    """(imported module, imported name or '', line) for every import outside TYPE_CHECKING."""
    tree = ast.parse(path.read_text(), str(path))
    is_pkg = path.name == "__init__.py"
    base = module.split(".") if is_pkg else module.split(".")[:-1]
    found: list[tuple[str, str, int]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append((alias.name, "", node.lineno))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parent = base[: len(base) - (node.level - 1)]
                target = ".".join(parent + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                if sub in known:  # `from pkg import submodule`
                    found.append((sub, "", node.lineno))
                else:
                    found.append((target, alias.name, node.lineno))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def import_graph(root: Path) -> dict[str, set[str]]:
    mods = _modules(root)
    known = set(mods)
    return {m: {t for t, _, _ in _imports(m, p, known) if t in known and t != m}
            for m, p in mods.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10000))
    for v in graph:
        if v not in index:
            strong(v)
    return found


def private_runtime_imports(root: Path, layers: tuple[str, ...]) -> list[str]:
    """Imports of underscore names (or modules) of the runtime by the given layers."""
    mods = _modules(root)
    top = root.name
    bad = []
    for module, path in mods.items():
        if not any(module.startswith(f"{top}.{layer}") for layer in layers):
            continue
        for target, name, line in _imports(module, path, set(mods)):
            if not target.startswith(f"{top}.runtime"):
                continue
            parts = target.split(".") + ([name] if name else [])
            if any(p.startswith("_") and not p.startswith("__") for p in parts):
                bad.append(f"{path.name}:{line} {target} {name}".strip())
    return bad


def private_attribute_reads(root: Path, layers: tuple[str, ...]) -> list[str]:
    """``obj._name`` on anything but self/cls in the given layers' modules."""
    bad = []
    for module, path in _modules(root).items():
        if not any(module.startswith(f"{root.name}.{layer}") for layer in layers):
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            # IPython's display protocol (_repr_html_, _repr_mimebundle_) is public API
            if (isinstance(node, ast.Attribute) and node.attr.startswith("_")
                    and not node.attr.endswith("_")
                    and not (isinstance(node.value, ast.Name)
                             and node.value.id in ("self", "cls"))):
                bad.append(f"{path.relative_to(root.parent)}:{node.lineno} .{node.attr}")
    return bad


OUTSIDE_RUNTIME = ("jupyter", "server", "cli")


def test_no_import_cycles():
    assert cycles(import_graph(PACKAGE)) == []


def test_jupyter_and_server_import_no_private_runtime_name():
    assert private_runtime_imports(PACKAGE, ("jupyter", "server")) == []


def test_no_private_attribute_reads_outside_the_runtime():
    assert private_attribute_reads(PACKAGE, OUTSIDE_RUNTIME) == []


def test_runtime_imports_nothing_from_jupyter():
    graph = import_graph(PACKAGE)
    bad = [(m, t) for m, ts in graph.items() if m.startswith("qrt_jupyter.runtime")
           for t in ts if t.startswith(("qrt_jupyter.jupyter", "qrt_jupyter.server"))]
    assert bad == []


def test_no_module_over_500_lines():
    long = {str(p.relative_to(PACKAGE.parent)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text().splitlines())) > 500}
    assert long == {}


@pytest.mark.parametrize("module", [
    "qrt_jupyter.runtime.core.store", "qrt_jupyter.server", "qrt_jupyter.server.manager",
    "qrt_jupyter.runtime.core",
])
def test_store_and_server_load_no_qiskit(module):
    code = f"import sys, {module}; print('qiskit' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


# -- the checks themselves find what they look for --------------------------------------------
def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "pkg"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def test_checker_finds_a_cycle_made_of_function_local_imports(tmp_path):
    root = _package(tmp_path, {
        "__init__.py": "",
        "runtime/__init__.py": "",
        "runtime/a.py": "from . import b\n",
        "runtime/b.py": "def f():\n    from .a import x\n",
        "runtime/c.py": ("from typing import TYPE_CHECKING\n"
                         "if TYPE_CHECKING:\n    from .a import x\n"),
        "runtime/d.py": "from .a import x\n",
    })
    assert cycles(import_graph(root)) == [["pkg.runtime.a", "pkg.runtime.b"]]


def test_checker_finds_private_imports_and_reads(tmp_path):
    root = _package(tmp_path, {
        "__init__.py": "",
        "runtime/__init__.py": "",
        "runtime/_hidden.py": "x = 1\n",
        "runtime/jobs.py": "_secret = 1\npublic = 2\n",
        "jupyter/__init__.py": "",
        "jupyter/view.py": ("from ..runtime.jobs import _secret, public\n"
                            "from ..runtime import _hidden\n"
                            "def show(job):\n    return job._started, self_ok(job)\n"
                            "class A:\n    def f(self):\n        return self._mine\n"),
    })
    imports = private_runtime_imports(root, ("jupyter",))
    assert len(imports) == 2 and any("_secret" in i for i in imports)
    assert any("_hidden" in i for i in imports)
    reads = private_attribute_reads(root, ("jupyter",))
    assert len(reads) == 1 and reads[0].endswith("._started")
