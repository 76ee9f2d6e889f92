"""The pure core never imports an adapter, the network, a database or the scheduler."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "arxivwatch"
CORE = [
    "errors", "models", "ids", "textnorm", "cleaner", "query", "ranking", "catalog", "entry", "render",
    "announcements",
]
FORBIDDEN = {
    "requests", "urllib.request", "http", "socket", "sqlite3", "feedparser", "slack_sdk",
    "apscheduler", "subprocess", "arxivwatch.store", "arxivwatch.sources", "arxivwatch.slack",
    "arxivwatch.pipeline", "arxivwatch.scheduler", "arxivwatch.cli", "arxivwatch.config",
}


def _module_files(name: str) -> list[Path]:
    single = SRC / f"{name}.py"
    if single.exists():
        return [single]
    return sorted((SRC / name).glob("*.py"))


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


@pytest.mark.parametrize("name", CORE)
def test_core_module_imports_no_adapter(name: str) -> None:
    """Each core module imports nothing that does I/O or wires the app together."""
    files = _module_files(name)
    if not files:
        pytest.skip(f"{name} not written yet")
    for path in files:
        bad = {m for m in _imports(path) for f in FORBIDDEN if m == f or m.startswith(f + ".")}
        assert not bad, f"{path.name} imports {sorted(bad)}"


def test_core_reads_no_environment() -> None:
    """Only the CLI reads os.environ; the core takes values."""
    for name in CORE:
        for path in _module_files(name):
            assert "os.environ" not in path.read_text(encoding="utf-8"), path.name


WIRING = {"arxivwatch.decisions", "arxivwatch.service", "arxivwatch.app", "arxivwatch.cli",
          "arxivwatch.pipeline", "arxivwatch.scheduler"}


def test_slack_adapter_imports_no_wiring() -> None:
    """slack/ decides through the `Decider` port it defines, never through the app's wiring."""
    for path in _module_files("slack"):
        bad = {m for m in _imports(path) for w in WIRING if m == w or m.startswith(w + ".")}
        assert not bad, f"slack/{path.name} imports {sorted(bad)}"
