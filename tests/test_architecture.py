"""The package's shape, checked from its source with ``ast``.

- No import cycles between modules.
- The Jupyter layer and the server import no private runtime name.
- Outside ``qrt_jupyter/runtime/`` no code reads a private attribute of another object.
- The runtime imports nothing from the Jupyter layer or the server.
- The server and the store load without Qiskit.
- No module is longer than 500 lines.

Which imports count: every ``import`` and ``from ... import`` statement of every module,
function-local ones included (they run sooner or later, and a cycle closed by one fails at
that moment instead of at start-up), except those under ``if TYPE_CHECKING:`` (an ``else:``
branch still counts). Relative imports are resolved to absolute names. ``from pkg import
name`` where ``pkg.name`` is a module counts as importing that module. Imports whose
target is computed at run time (``importlib.import_module(variable)``, PEP 562 lazy
names) are not seen.

Which edges the import graph has, for a statement in module ``M``:

- ``import a.b.c`` and ``from a.b.c import name``: an edge to ``a.b.c``, the named module,
  always (even when it is a package that contains ``M``: ``from .. import name`` reads a
  name from that package's ``__init__``, which may still be executing).
- ``from a.b import c`` with ``a.b.c`` a module: an edge to ``a.b.c``.
- Parent packages: importing ``a.b.c`` also executes ``a/__init__`` and ``a/b/__init__``,
  so there are edges to those too (to ``a.b`` as well in ``from a.b import c`` with ``c``
  a submodule), because a package ``__init__`` that imports things makes them part of
  the import — except to packages that contain ``M`` itself: Python executes those
  before ``M`` whatever ``M`` imports, so such an edge adds no order that is not already
  there, and counting it would call every ``__init__`` that re-exports its own
  submodules a cycle.

A package's ``__init__`` is a module of its own, named after the package.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "qrt_jupyter"
MAX_LINES = 500

#: the layers that must use the runtime through its public names
PUBLIC_USERS = ("jupyter", "server")
#: where reading another object's private attribute is refused
OUTSIDE_RUNTIME = ("jupyter", "server", "cli")
#: IPython's rich-display hooks (``_repr_html_``, ``_repr_mimebundle_``,
#: ``_ipython_display_``): single underscore by IPython's design, public protocol
DISPLAY_PROTOCOL = re.compile(r"^_(repr|ipython)_[a-z_]+_$")


# -- reading the package -------------------------------------------------------------------
@dataclass(frozen=True)
class Import:
    module: str  # the absolute module name the statement names
    names: tuple[str, ...]  # the names of ``from module import ...``; () for ``import``
    line: int


@dataclass
class Module:
    name: str
    path: Path
    is_package: bool
    tree: ast.Module

    @property
    def where(self) -> str:
        return self.path.relative_to(self.path_root).as_posix()

    path_root: Path = Path("/")


def discover(root: Path) -> dict[str, Module]:
    """Every module of the package in directory ``root``, by dotted name."""
    modules = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        name = ".".join(parts)
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        modules[name] = Module(name, path, is_package, tree, root.parent)
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    """``TYPE_CHECKING`` or ``typing.TYPE_CHECKING`` (any module's)."""
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _absolute(module: Module, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    # the package a relative import starts from: the module's own package, or the
    # package itself for an __init__
    package = module.name.split(".") if module.is_package else module.name.split(".")[:-1]
    up = node.level - 1
    if up > len(package) - 1:
        raise ValueError(f"{module.where}:{node.lineno}: relative import beyond the top")
    base = package[: len(package) - up]
    return ".".join(base + ([node.module] if node.module else []))


def imports(module: Module) -> list[Import]:
    """Every import statement of ``module`` outside ``if TYPE_CHECKING:``, resolved."""
    found: list[Import] = []

    def visit(nodes: Iterable[ast.AST]) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and _is_type_checking(node.test):
                visit(node.orelse)
                continue
            if isinstance(node, ast.Import):
                found.extend(Import(a.name, (), node.lineno) for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                names = tuple(a.name for a in node.names)
                found.append(Import(_absolute(module, node), names, node.lineno))
            visit(ast.iter_child_nodes(node))

    visit(module.tree.body)
    return found


def _parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def targets(module: Module, imp: Import, known: set[str]) -> set[str]:
    """The package's modules that ``imp`` executes, by the rules in the module docstring."""
    own_packages = set(_parents(module.name))
    if module.is_package:
        own_packages.add(module.name)
    out: set[str] = set()
    submodules = [f"{imp.module}.{n}" for n in imp.names if f"{imp.module}.{n}" in known]
    out.update(submodules)
    reads_names = not imp.names or len(submodules) < len(imp.names)
    if reads_names:
        out.add(imp.module)  # the named module's own contents are used
    executed = _parents(imp.module) + ([] if reads_names else [imp.module])
    out.update(p for p in executed if p not in own_packages)
    return {t for t in out if t in known and t != module.name}


def import_graph(modules: dict[str, Module]) -> dict[str, dict[str, list[int]]]:
    """module -> {imported module of the package -> lines of the imports that make the edge}."""
    known = set(modules)
    graph: dict[str, dict[str, list[int]]] = {}
    for name, module in modules.items():
        edges: dict[str, list[int]] = {}
        for imp in imports(module):
            for target in targets(module, imp, known):
                edges.setdefault(target, []).append(imp.line)
        graph[name] = edges
    return graph


def strongly_connected(graph: dict[str, Iterable[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components (iterative), those of more than one node."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return sorted(components)


# -- the checks: each returns its offenders as lines of text ---------------------------------
def import_cycles(modules: dict[str, Module]) -> list[str]:
    """One entry per cycle: its modules and the imports inside it."""
    graph = import_graph(modules)
    report = []
    for component in strongly_connected(graph):
        members = set(component)
        edges = [f"    {modules[m].where}:{','.join(map(str, lines))} -> {t}"
                 for m in component for t, lines in sorted(graph[m].items()) if t in members]
        report.append(f"cycle of {len(component)}: {', '.join(component)}\n" + "\n".join(edges))
    return report


def _in_layers(module: Module, top: str, layers: Iterable[str]) -> bool:
    return any(module.name == f"{top}.{layer}" or module.name.startswith(f"{top}.{layer}.")
               for layer in layers)


def private_runtime_imports(modules: dict[str, Module], layers: Iterable[str]) -> list[str]:
    """Imports by ``layers`` of a runtime module with an ``_`` component or of an ``_`` name."""
    top = next(iter(modules)).split(".")[0]
    runtime = f"{top}.runtime"
    bad = []
    for module in modules.values():
        if not _in_layers(module, top, layers):
            continue
        for imp in imports(module):
            if imp.module != runtime and not imp.module.startswith(runtime + "."):
                continue
            private_path = [p for p in imp.module.split(".") if p.startswith("_")]
            private_names = [n for n in imp.names if n.startswith("_")]
            if private_path or private_names:
                what = imp.module + (f" import {', '.join(private_names)}" if private_names
                                     else "")
                bad.append(f"{module.where}:{imp.line}: {what}")
    return bad


def private_attribute_reads(modules: dict[str, Module], layers: Iterable[str]) -> list[str]:
    """``x._name`` (single underscore, not a dunder) on anything but bare ``self``/``cls``."""
    top = next(iter(modules)).split(".")[0]
    bad = []
    for module in modules.values():
        if not _in_layers(module, top, layers):
            continue
        found: list[tuple[int, int, str]] = []
        for node in ast.walk(module.tree):
            if not isinstance(node, ast.Attribute):
                continue
            attr = node.attr
            if not attr.startswith("_") or attr.startswith("__") or DISPLAY_PROTOCOL.match(attr):
                continue
            if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
                continue
            found.append((node.lineno, node.col_offset, ast.unparse(node)))
        bad += [f"{module.where}:{line}: {text}" for line, _, text in sorted(found)]
    return bad


def imports_across(modules: dict[str, Module], source: str,
                   forbidden: Iterable[str]) -> list[str]:
    """Imports by modules under package ``source`` of modules under any of ``forbidden``."""
    graph = import_graph(modules)
    bad = []
    for name, edges in sorted(graph.items()):
        if name != source and not name.startswith(source + "."):
            continue
        for target, lines in sorted(edges.items()):
            if any(target == f or target.startswith(f + ".") for f in forbidden):
                bad.append(f"{modules[name].where}:{','.join(map(str, lines))} -> {target}")
    return bad


def long_modules(root: Path, limit: int = MAX_LINES) -> list[str]:
    bad = []
    for path in sorted(root.rglob("*.py")):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > limit:
            bad.append(f"{path.relative_to(root.parent).as_posix()}: {lines} lines")
    return bad


def loaded_after_import(module: str, prefixes: tuple[str, ...] = ("qiskit",),
                        path: Path = REPO) -> list[str]:
    """Modules whose name starts with ``prefixes`` that a fresh ``import module`` loads."""
    code = textwrap.dedent(f"""
        import sys
        import {module}
        prefixes = {prefixes!r}
        for name in sorted(sys.modules):
            if name.startswith(prefixes):
                print(name)
    """)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(path), *filter(None, [os.environ.get("PYTHONPATH")])]))
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=path, env=env, timeout=120)
    assert run.returncode == 0, f"import {module} failed:\n{run.stderr}"
    return run.stdout.split()


def _fail_with(offenders: list[str], what: str) -> None:
    assert not offenders, f"{what} ({len(offenders)}):\n" + "\n".join(offenders)


# -- the package ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def package() -> dict[str, Module]:
    return discover(PACKAGE)


def test_no_import_cycles(package):
    _fail_with(import_cycles(package), "import cycles between qrt_jupyter modules")


def test_jupyter_and_server_import_no_private_runtime_name(package):
    _fail_with(private_runtime_imports(package, PUBLIC_USERS),
               "private runtime names imported by qrt_jupyter.jupyter / qrt_jupyter.server")


def test_no_private_attribute_reads_outside_the_runtime(package):
    _fail_with(private_attribute_reads(package, OUTSIDE_RUNTIME),
               "private attributes read outside qrt_jupyter/runtime/")


def test_runtime_imports_nothing_from_jupyter_or_server(package):
    _fail_with(imports_across(package, "qrt_jupyter.runtime",
                              ("qrt_jupyter.jupyter", "qrt_jupyter.server")),
               "qrt_jupyter.runtime importing the Jupyter layer or the server")


@pytest.mark.parametrize("module", [
    "qrt_jupyter.server", "qrt_jupyter.server.manager", "qrt_jupyter.runtime.core",
    "qrt_jupyter.runtime.core.store",
])
def test_server_and_store_load_no_qiskit(module):
    _fail_with(loaded_after_import(module), f"Qiskit modules loaded by `import {module}`")


def test_server_manager_reads_a_store_without_qiskit(tmp_path):
    """Not only importing: the manager opening a store and answering loads no Qiskit."""
    code = textwrap.dedent(f"""
        import sys
        from qrt_jupyter.server.manager import RuntimeManager
        manager = RuntimeManager({str(tmp_path / "store.sqlite")!r})
        assert manager.status()["running"] == 0
        assert manager.sessions()["sessions"] == []
        manager.close()
        print(" ".join(sorted(n for n in sys.modules if n.startswith("qiskit"))))
    """)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]), QRT_HOME=str(tmp_path))
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=REPO, env=env, timeout=120)
    assert run.returncode == 0, run.stderr
    _fail_with(run.stdout.split(), "Qiskit modules loaded by the server's manager")


def test_no_module_over_500_lines():
    """No allow-list: a module that grows past the limit is split, not excused."""
    _fail_with(long_modules(PACKAGE), f"modules over {MAX_LINES} lines")


# -- each check finds what it looks for -------------------------------------------------------
def _package(tmp_path: Path, files: dict[str, str], name: str = "pkg") -> Path:
    root = tmp_path / name
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def test_cycle_check_finds_cycles_and_only_cycles(tmp_path):
    root = _package(tmp_path, {
        "__init__.py": "",
        "runtime/__init__.py": "",
        # a cycle closed by a function-local import, through `from . import submodule`
        "runtime/a.py": "from . import b\n",
        "runtime/b.py": "def f():\n    from .a import x\n",
        # TYPE_CHECKING imports are no edges; the else branch is one
        "runtime/c.py": """\
            from typing import TYPE_CHECKING
            import typing
            if TYPE_CHECKING:
                from .a import x
            if typing.TYPE_CHECKING:
                from .d import y
            else:
                from . import e
        """,
        "runtime/d.py": "from .c import z\n",
        "runtime/e.py": "",
        # a package that re-exports its submodules, which import each other: no cycle
        "shapes/__init__.py": "from .circle import Circle\nfrom .base import Base\n",
        "shapes/base.py": "class Base: ...\n",
        "shapes/circle.py": "from .base import Base\nfrom . import base\n",
        # importing a submodule runs its package's __init__, which imports the importer
        "tools/__init__.py": "from ..app import main\n",
        "tools/hammer.py": "",
        "app.py": "import pkg.tools.hammer\ndef main(): ...\n",
        # a name read from the package __init__ that imports the reader
        "plugins/__init__.py": "from .loader import load\nVERSION = 1\n",
        "plugins/loader.py": "from . import VERSION\ndef load(): ...\n",
    })
    report = import_cycles(discover(root))
    assert [line.splitlines()[0] for line in report] == [
        "cycle of 2: pkg.app, pkg.tools",
        "cycle of 2: pkg.plugins, pkg.plugins.loader",
        "cycle of 2: pkg.runtime.a, pkg.runtime.b",
    ], report
    assert "pkg/runtime/b.py:2 -> pkg.runtime.a" in report[2]
    with pytest.raises(AssertionError, match="cycle of 2: pkg.app, pkg.tools"):
        _fail_with(report, "import cycles")


def test_tarjan_on_a_larger_graph():
    graph = {"a": ["b"], "b": ["c"], "c": ["a", "d"], "d": ["e"], "e": ["d"], "f": ["f"],
             "g": ["a"]}
    assert strongly_connected(graph) == [["a", "b", "c"], ["d", "e"]]
    chain = {str(i): [str(i + 1)] for i in range(5000)} | {"5000": ["0"]}
    assert len(strongly_connected(chain)[0]) == 5001  # no recursion limit


def test_private_import_check_finds_private_modules_and_names(tmp_path):
    root = _package(tmp_path, {
        "__init__.py": "",
        "runtime/__init__.py": "",
        "runtime/_hidden.py": "x = 1\n",
        "runtime/_internal/__init__.py": "",
        "runtime/_internal/tools.py": "",
        "runtime/jobs.py": "_secret = 1\npublic = 2\n",
        "jupyter/__init__.py": "",
        "jupyter/view.py": """\
            from typing import TYPE_CHECKING
            from ..runtime.jobs import _secret, public
            from ..runtime import _hidden
            import pkg.runtime._internal.tools
            from .helpers import _fine
            if TYPE_CHECKING:
                from ..runtime.jobs import _typed
            def later():
                from pkg.runtime.jobs import _local
        """,
        "jupyter/helpers.py": "_fine = 1\n",
        "server/__init__.py": "from ..runtime import jobs\n",
        "runtime/engine.py": "from ._hidden import x\n",  # inside the runtime: allowed
    })
    assert private_runtime_imports(discover(root), ("jupyter", "server")) == [
        "pkg/jupyter/view.py:2: pkg.runtime.jobs import _secret",
        "pkg/jupyter/view.py:3: pkg.runtime import _hidden",
        "pkg/jupyter/view.py:4: pkg.runtime._internal.tools",
        "pkg/jupyter/view.py:9: pkg.runtime.jobs import _local",
    ]


def test_private_attribute_check_finds_reads_on_other_objects(tmp_path):
    root = _package(tmp_path, {
        "__init__.py": "",
        "cli.py": "def main(service):\n    return service._store\n",
        "jupyter/__init__.py": "",
        "jupyter/view.py": """\
            class View:
                def __init__(self, job):
                    self._job = job
                def show(self):
                    return self._job._started, self._job.status(), type(self).__name__
                @classmethod
                def make(cls):
                    return cls._cache, cls.__dict__
                def html(self):
                    return self._job._repr_html_(), self._job._ipython_display_
            def peek(job, other):
                other._seen = True
                return job._options
        """,
        "runtime/__init__.py": "",
        "runtime/jobs.py": "def f(job):\n    return job._started\n",  # allowed in runtime
    })
    assert private_attribute_reads(discover(root), ("jupyter", "server", "cli")) == [
        "pkg/cli.py:2: service._store",
        "pkg/jupyter/view.py:5: self._job._started",
        "pkg/jupyter/view.py:12: other._seen",
        "pkg/jupyter/view.py:13: job._options",
    ]


def test_layer_check_finds_the_runtime_importing_jupyter(tmp_path):
    root = _package(tmp_path, {
        "__init__.py": "",
        "runtime/__init__.py": "",
        "runtime/jobs.py": "def show():\n    from ..jupyter import widgets\n",
        "jupyter/__init__.py": "",
        "jupyter/widgets.py": "from ..runtime import jobs\n",
    })
    assert imports_across(discover(root), "pkg.runtime", ("pkg.jupyter", "pkg.server")) == [
        "pkg/runtime/jobs.py:2 -> pkg.jupyter",
        "pkg/runtime/jobs.py:2 -> pkg.jupyter.widgets",
    ]


def test_line_check_finds_long_modules(tmp_path):
    root = _package(tmp_path, {
        "__init__.py": "",
        "short.py": "x = 1\n" * MAX_LINES,
        "sub/long.py": "x = 1\n" * (MAX_LINES + 1),
    })
    assert long_modules(root) == [f"pkg/sub/long.py: {MAX_LINES + 1} lines"]


def test_qiskit_check_sees_a_module_that_loads_qiskit(tmp_path):
    # a stand-in qiskit, first on the path, so the check needs no real Qiskit import
    _package(tmp_path, {"__init__.py": "", "circuit.py": ""}, name="qiskit")
    _package(tmp_path, {"__init__.py": "", "heavy.py": "import qiskit.circuit\n",
                        "light.py": "import json\n"}, name="fake")
    assert loaded_after_import("fake.heavy", path=tmp_path) == ["qiskit", "qiskit.circuit"]
    assert loaded_after_import("fake.light", path=tmp_path) == []
