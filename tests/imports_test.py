"""The package's import graph: every module imports, and no modules import each other in a cycle.

The graph is read from the source with ast, every `import` and `from ... import`
statement of each module, those inside functions included: an import moved
into a function to dodge a cycle is still a cycle in the design, and the next
top-level import of either module breaks it.
"""

import ast
import importlib
import os

import pytest

import w2v_jax

PACKAGE_DIR = os.path.dirname(os.path.abspath(w2v_jax.__file__))


def modules(package_dir: str) -> dict[str, str]:
  """Dotted name -> file, for every .py file in the package and its subpackages."""
  parent = os.path.dirname(package_dir)
  found = {}
  for folder, _, names in os.walk(package_dir):
    for name in names:
      if name.endswith(".py"):
        path = os.path.join(folder, name)
        dotted = os.path.relpath(path, parent)[:-len(".py")].replace(os.sep, ".")
        found[dotted.removesuffix(".__init__")] = path
  return found


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
  if not node.level:
    return node.module or ""
  base = module if is_package else module.rpartition(".")[0]
  for _ in range(node.level - 1):
    base = base.rpartition(".")[0]
  return f"{base}.{node.module}" if node.module else base


def imports(path: str, module: str, known) -> set[str]:
  """The modules of `known` that the file at `path` (module `module`) imports."""
  with open(path, encoding="utf-8") as f:
    tree = ast.parse(f.read(), path)
  is_package = path.endswith("__init__.py")
  found = set()
  for node in ast.walk(tree):
    if isinstance(node, ast.Import):
      found.update(alias.name for alias in node.names if alias.name in known)
    elif isinstance(node, ast.ImportFrom):
      target = _absolute(node, module, is_package)
      for alias in node.names:
        # `from w2v_jax import evaluate` names a module; `from w2v_jax.errors import
        # UserError` names something in one.
        submodule = f"{target}.{alias.name}"
        if submodule in known:
          found.add(submodule)
        elif target in known:
          found.add(target)
  found.discard(module)
  return found


def graph(package_dir: str) -> dict[str, set[str]]:
  files = modules(package_dir)
  return {module: imports(path, module, files) for module, path in files.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
  """Each strongly connected group of two or more modules, as a cycle through it.

  Tarjan's algorithm; a group is reported as a path a -> ... -> a found by a
  search inside the group, so the failure says which imports to untangle.
  """
  index, low, on_stack, stack, groups = {}, {}, set(), [], []

  def visit(v):
    index[v] = low[v] = len(index)
    stack.append(v)
    on_stack.add(v)
    for w in sorted(edges.get(v, ())):
      if w not in index:
        visit(w)
        low[v] = min(low[v], low[w])
      elif w in on_stack:
        low[v] = min(low[v], index[w])
    if low[v] == index[v]:
      group = set()
      while True:
        w = stack.pop()
        on_stack.discard(w)
        group.add(w)
        if w == v:
          break
      if len(group) > 1:
        groups.append(group)

  for v in sorted(edges):
    if v not in index:
      visit(v)
  return [_path_through(edges, group) for group in groups]


def _path_through(edges, group) -> list[str]:
  start = min(group)
  paths = {start: [start]}
  frontier = [start]
  while frontier:  # breadth first, so the cycle shown is a shortest one through `start`
    v = frontier.pop(0)
    for w in sorted(edges[v] & group):
      if w == start:
        return paths[v] + [start]
      if w not in paths:
        paths[w] = paths[v] + [w]
        frontier.append(w)
  raise AssertionError(f"no cycle through {start} in {group}")


@pytest.mark.parametrize("module", sorted(modules(PACKAGE_DIR)))
def test_every_module_imports(module):
  importlib.import_module(module)


def test_no_import_cycles():
  found = cycles(graph(PACKAGE_DIR))
  assert not found, "import cycles: " + "; ".join(" -> ".join(c) for c in found)


def test_the_check_sees_a_cycle(tmp_path):
  package = tmp_path / "pkg"
  (package / "sub").mkdir(parents=True)
  (package / "__init__.py").write_text("")
  (package / "sub" / "__init__.py").write_text("")
  (package / "a.py").write_text("from pkg import b\nimport os\n")
  (package / "b.py").write_text("def f():\n  from pkg.sub.c import g\n")
  (package / "sub" / "c.py").write_text("from ..a import x\nfrom . import d\n")
  (package / "sub" / "d.py").write_text("from pkg.errors import E\n")
  edges = graph(str(package))
  assert edges["pkg.a"] == {"pkg.b"} and edges["pkg.sub.c"] == {"pkg.a", "pkg.sub.d"}
  assert cycles(edges) == [["pkg.a", "pkg.b", "pkg.sub.c", "pkg.a"]]
  (package / "b.py").write_text("")
  assert cycles(graph(str(package))) == []
