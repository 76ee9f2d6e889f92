"""Finds the command modules: every `*_cmd.py` in this package exposes `register(cli)`."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

import arxivwatch.cli as _pkg


def modules() -> list[ModuleType]:
    """The imported `*_cmd` modules of this package, by name."""
    names = sorted(m.name for m in pkgutil.iter_modules(_pkg.__path__) if m.name.endswith("_cmd"))
    return [importlib.import_module(f"arxivwatch.cli.{name}") for name in names]
