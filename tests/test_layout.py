"""The package's layout holds: one concern per sub-package, small modules and functions, imports
that only run downwards, and no import path set by hand."""
import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "scripts" / "edbench"
# What each layer may import from the package; a layer not listed here may import anything below it.
NEVER_IMPORTS = {
    "methods": ("edbench.runner", "edbench.race", "edbench.report", "edbench.speed", "edbench.config"),
    "maths": ("edbench.runner", "edbench.race", "edbench.report", "edbench.speed", "edbench.methods"),
    "data": ("edbench.runner", "edbench.race", "edbench.report", "edbench.speed", "edbench.methods"),
    "race": ("edbench.runner", "edbench.report", "edbench.speed"),
}


def modules():
    return sorted(PACKAGE.rglob("*.py"))


def imported(path: Path) -> set[str]:
    """Every module ``path`` imports, at any depth of its code (lazy imports included)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def test_no_module_is_over_400_lines_and_no_function_over_80():
    long_modules = [f"{p.relative_to(PACKAGE)}: {n}" for p in modules()
                    if (n := len(p.read_text().splitlines())) > 400]
    long_functions = []
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno + 1 > 80:
                long_functions.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name}")
    assert long_modules == [] and long_functions == []


def test_lower_layers_never_import_upwards():
    upward = [f"{path.relative_to(PACKAGE)} imports {name}"
              for path in modules() for layer, banned in NEVER_IMPORTS.items()
              if path.relative_to(PACKAGE).parts[0] == layer
              for name in imported(path) if name.startswith(banned)]
    assert upward == []


def test_every_registered_method_imports_alone_without_a_cycle():
    """Each method module imported first, in a fresh interpreter: an import cycle (the registry's
    importlib included) fails there."""
    from edbench import methods

    for name, module in sorted(methods.REGISTRY.items()):
        code = f"import {module}; from edbench import methods; assert methods.get({name!r}).name == {name!r}"
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                              cwd=REPO / "scripts")
        assert done.returncode == 0, done.stderr[-2000:]


def test_no_import_path_is_set_by_hand():
    found = subprocess.run(["git", "grep", "-n", "sys.path", "--", "scripts", "workflow"], cwd=REPO,
                           capture_output=True, text=True)
    assert found.stdout == ""


def test_every_sub_package_says_what_lives_there():
    missing = [str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("__init__.py")
               if not (ast.get_docstring(ast.parse(p.read_text())) or "").strip()]
    assert missing == []
