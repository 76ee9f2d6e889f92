"""Counts the package's grain from its source (ast): modules, classes, Protocols, and how many
shapes each concept comes in (issue 13).

    python bench/structure.py [-v] [SRC]     # default: src/arxivwatch; -v: where

Shapes are found by what a definition holds, not by its name:
- candidate: a class that declares a paper together with its section or score (a Candidate's
  fields, copied or promised by a Protocol);
- decision result: a class that declares `applied` (whether a decision attempt was recorded);
- clock: a function or lambda that only returns `datetime.now(...)`;
- section key: a function that folds heading paths (`casefold` of split parts, named *key*);
- section list: a definition named section_paths / filing_sections, or a comprehension taking
  `path_text` of the catalog's sections;
- load_catalog: a function of that name;
- a name defined twice: a class or module-level type alias defined in more than one module
  (two meanings, or one meaning written twice).
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _modules(src: Path) -> list[tuple[str, ast.Module]]:
    return [(str(p.relative_to(src)), ast.parse(p.read_text(encoding="utf-8")))
            for p in sorted(src.rglob("*.py"))]


def _declared(cls: ast.ClassDef) -> set[str]:
    """Attribute names a class body declares: annotated fields and properties."""
    names = set()
    for node in cls.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.FunctionDef) and any(
                isinstance(d, ast.Name) and d.id == "property" for d in node.decorator_list):
            names.add(node.name)
    return names


def _is_now(node: ast.AST) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "now" and bool(node.args))


def _clocks(tree: ast.Module) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Lambda) and _is_now(node.body):
            yield "lambda"
        elif isinstance(node, ast.FunctionDef):
            body = [s for s in node.body if not (isinstance(s, ast.Expr)
                                                 and isinstance(s.value, ast.Constant))]
            if len(body) == 1 and isinstance(body[0], ast.Return) and body[0].value is not None \
                    and _is_now(body[0].value):
                yield node.name


def _section_keys(tree: ast.Module) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and "key" in node.name and any(
                isinstance(n, ast.Attribute) and n.attr == "casefold" for n in ast.walk(node)):
            yield node.name


def _section_lists(tree: ast.Module) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name in {"section_paths",
                                                                "filing_sections"}:
            yield node.name
        elif isinstance(node, ast.ListComp) and any(
                isinstance(n, ast.Attribute) and n.attr == "path_text"
                for n in ast.walk(node.elt)):
            source = node.generators[0].iter
            if isinstance(source, ast.Call):
                source = source.func
            if isinstance(source, ast.Attribute) and source.attr in {"sections",
                                                                      "filing_sections"}:
                yield "[... path_text ...]"


def _names(tree: ast.Module) -> Iterator[str]:
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            yield node.name
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], ast.Name) and node.targets[0].id[:1].isupper() \
                and not node.targets[0].id.isupper():
            yield node.targets[0].id          # a type alias such as `Outcome = Paper | str`


def measure(src: Path) -> dict[str, tuple[int, list[str]]]:
    """Each figure's count and where it was found."""
    found: dict[str, list[str]] = defaultdict(list)
    defined: dict[str, set[str]] = defaultdict(set)
    for path, tree in _modules(src):
        found["modules"].append(path)
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                found["classes"].append(f"{path}:{node.name}")
                bases = {b.id if isinstance(b, ast.Name) else getattr(b, "attr", "")
                         for b in node.bases}
                if "Protocol" in bases:
                    found["Protocols"].append(f"{path}:{node.name}")
                fields = _declared(node)
                if "paper" in fields and fields & {"section", "score"}:
                    found["candidate shapes"].append(f"{path}:{node.name}")
                if "applied" in fields:
                    found["decision result shapes"].append(f"{path}:{node.name}")
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                    and node.func.id == "getattr":
                found["getattr calls"].append(path)
            elif isinstance(node, ast.FunctionDef) and node.name == "load_catalog":
                found["load_catalog"].append(path)
        found["clocks"] += [f"{path}:{c}" for c in _clocks(tree)]
        found["section keys"] += [f"{path}:{k}" for k in _section_keys(tree)]
        found["ways to list sections"] += [f"{path}:{k}" for k in _section_lists(tree)]
        for name in _names(tree):
            defined[name].add(path)
    found["names defined twice"] = [f"{n} ({', '.join(sorted(p))})"
                                        for n, p in sorted(defined.items()) if len(p) > 1]
    order = ("modules", "classes", "Protocols", "candidate shapes", "decision result shapes",
             "clocks", "section keys", "ways to list sections", "load_catalog",
             "names defined twice", "getattr calls")
    return {k: (len(found[k]), found[k]) for k in order}


def main(argv: list[str]) -> int:
    verbose = "-v" in argv
    paths = [a for a in argv[1:] if a != "-v"]
    src = Path(paths[0]) if paths else ROOT / "src" / "arxivwatch"
    for name, (count, where) in measure(src).items():
        print(f"{name:26} {count:4d}")
        if verbose and name not in {"modules", "classes", "getattr calls"}:
            for w in where:
                print(f"{'':28}{w}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
