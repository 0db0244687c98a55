"""Registry of learning methods: every module in this package that defines ``METHOD``.

Adding a method means adding one module here (with ``METHOD = MyMethod``) and one entry under
``methods:`` in the config.
"""
from __future__ import annotations

import importlib
import pkgutil

from .base import ConfigError, LearningMethod


def _discover() -> dict[str, str]:
    found = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_") or info.name == "base":
            continue
        found[info.name] = f"{__name__}.{info.name}"
    return found


_MODULES = _discover()


def get(name: str) -> type[LearningMethod]:
    for module_name in _MODULES.values():
        module = importlib.import_module(module_name)
        method = getattr(module, "METHOD", None)
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
