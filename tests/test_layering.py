"""The layers, stated and walked: core <- adapters <- wiring, a thin CLI, a bench on the library.

- core (values in, values out) imports only core modules, and no network, database or
  scheduler library;
- adapters (I/O) import only core and adapter modules, never the wiring;
- wiring (builds and runs things) may import anything of the package;
- a command module of the CLI imports no other command module;
- `bench/` imports no CLI module.

Every import counts, also one inside a function.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "arxivwatch"
CORE = (
    "errors", "models", "ids", "textnorm", "cleaner", "query", "ranking", "catalog", "entry",
    "render", "announcements", "learning", "summary", "voice", "why",
)
ADAPTERS = ("clock", "config", "sources", "store", "slack", "catalog_file", "logs", "llm")
WIRING = (
    "wiring", "pipeline", "decisions", "scheduler", "serving", "cli", "replay", "template_check",
    "reports", "workbench", "__main__",
)
# Libraries that do I/O or run things: none of them in the core.
IO_LIBRARIES = (
    "requests", "urllib.request", "http", "socket", "sqlite3", "feedparser", "arxiv",
    "slack_sdk", "slack_bolt", "apscheduler", "subprocess", "waitress",
)


def _files(name: str) -> list[Path]:
    single = SRC / f"{name}.py"
    return [single] if single.exists() else sorted((SRC / name).rglob("*.py"))


def _module_of(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module `path` imports, `from a import b` counted as `a` and `a.b`."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(path, node.level, node.module or "")
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _absolute(path: Path, level: int, module: str) -> str:
    """The module a `from .x import y` in the package's file `path` names."""
    if not level:
        return module
    package = _module_of(path).split(".")[:None if path.name == "__init__.py" else -1]
    return ".".join([*package[:len(package) - level + 1], module]).strip(".")


def _under(module: str, names: tuple[str, ...], prefix: str = "arxivwatch.") -> bool:
    return any(module == prefix + n or module.startswith(prefix + n + ".") for n in names)


def _crossings(names: tuple[str, ...], allowed: tuple[str, ...]) -> Iterator[tuple[str, str]]:
    """(file, module) for each import of `names`' files into the package outside `allowed`."""
    for name in names:
        for path in _files(name):
            for module in sorted(_imports(path)):
                inside = module.startswith("arxivwatch.") and module != "arxivwatch.__version__"
                if inside and not _under(module, allowed):
                    yield str(path.relative_to(SRC)), module


def _lines(crossings: Iterable[tuple[str, str]]) -> list[str]:
    """The crossings, one line per imported module (`a.b` counted in `a`)."""
    found = set(crossings)
    return sorted(f"{f} imports {m}" for f, m in found if (f, m.rpartition(".")[0]) not in found)


def test_every_module_has_a_layer() -> None:
    """A new module says where it belongs (add it to CORE, ADAPTERS or WIRING)."""
    top = {p.stem for p in SRC.glob("*.py")} | {p.name for p in SRC.iterdir() if p.is_dir()
                                                and (p / "__init__.py").exists()}
    assert top - {"__init__"} - set(CORE + ADAPTERS + WIRING) == set()


def test_core_imports_only_core() -> None:
    """The core imports no adapter (config, sources, store, slack, file reading) nor wiring."""
    assert _lines(_crossings(CORE, CORE)) == []


@pytest.mark.parametrize("name", CORE)
def test_core_imports_no_io_library(name: str) -> None:
    """Each core module imports no network, database, scheduler or process library."""
    for path in _files(name):
        bad = {m for m in _imports(path) if _under(m, IO_LIBRARIES, prefix="")}
        assert not bad, f"{path.name} imports {sorted(bad)}"


def test_adapters_import_no_wiring() -> None:
    """Adapters import the core and each other, never app, pipeline, decisions, cli, replay..."""
    assert _lines(_crossings(ADAPTERS, CORE + ADAPTERS)) == []


def test_cli_commands_import_no_other_command() -> None:
    """A `cli/*_cmd.py` module imports no other command module: shared code lives below."""
    crossings = ((str(path.relative_to(SRC)), m) for path in sorted(SRC.glob("cli/*_cmd.py"))
                 for m in sorted(_imports(path))
                 if m.startswith("arxivwatch.cli.") and m.split(".")[2].endswith("_cmd"))
    assert _lines(crossings) == []


def test_bench_imports_no_cli() -> None:
    """The benchmarks run the library, not the command line."""
    bad = [(f"bench/{p.name}", m) for p in sorted((ROOT / "bench").glob("*.py"))
           for m in _imports(p) if _under(m, ("cli",))]
    assert _lines(bad) == []


def test_core_reads_no_environment() -> None:
    """Only the CLI reads os.environ; the core takes values."""
    for name in CORE:
        for path in _files(name):
            assert "os.environ" not in path.read_text(encoding="utf-8"), path.name
