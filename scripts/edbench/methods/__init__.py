"""Registry of learning methods: every module in this package that defines ``METHOD``.

Adding a method means adding one module here (with ``METHOD = MyMethod``) and one entry under
``methods:`` in the config.
"""
from __future__ import annotations

import functools
import importlib
import pkgutil
import re
from pathlib import Path

from .base import ConfigError, LearningMethod


def _discover() -> dict[str, str]:
    found = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_") or info.name == "base":
            continue
        found[info.name] = f"{__name__}.{info.name}"
    return found


_MODULES = _discover()


@functools.cache
def _likely_first(name: str) -> tuple[str, ...]:
    """Module names, those whose source declares ``name = "<name>"`` first.

    A job imports only its own method's module (and so only the compiled kernels or torch it
    needs); the guess is checked on import, and a wrong one only costs time.
    """
    declares = re.compile(rf"""^\s+name\s*=\s*["']{re.escape(name)}["']""", re.MULTILINE)

    def declared_here(short: str) -> bool:
        try:
            return bool(declares.search((Path(__file__).parent / f"{short}.py").read_text()))
        except OSError:
            return False

    return tuple(sorted(_MODULES, key=lambda short: not declared_here(short)))


def get(name: str) -> type[LearningMethod]:
    for short in _likely_first(name):
        method = getattr(importlib.import_module(_MODULES[short]), "METHOD", None)
        if method is not None and method.name == name:
            return method
    raise ConfigError(f"unknown method {name!r}; available: {available()}")


def available() -> list[str]:
    names = []
    for module_name in _MODULES.values():
        method = getattr(importlib.import_module(module_name), "METHOD", None)
        if method is not None:
            names.append(method.name)
    return sorted(names)
