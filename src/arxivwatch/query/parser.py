"""Parsing topic query text into a `Query` tree, with errors that point at a column."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from typing import NamedTuple

from arxivwatch import textnorm
from arxivwatch.errors import QuerySyntaxError
from arxivwatch.query.tree import FIELDS, And, AndNot, Or, Query, Term

_LEX = re.compile(r"""
    (?P<space>\s+)
  | (?P<lparen>\()
  | (?P<rparen>\))
  | (?<!:)(?P<field>[A-Za-z]+):     # not right after another prefix: all:a:b
  | (?P<phrase>"[^"]*")
  | (?P<quote>")
  | (?P<word>[^\s()"]+)
""", re.VERBOSE)
_BINARY = ("AND", "OR", "ANDNOT")
_CATEGORY = re.compile(r"[a-z][a-z-]*(?:\.[a-z][a-z-]*)?", re.IGNORECASE)
_CATEGORY_PREFIX = re.compile(r"[a-z][a-z-]*\.?(?:[a-z][a-z-]*)?", re.IGNORECASE)
_MIN_PREFIX = 3
_PREFIX_END = re.compile(r"[^\W_]{%d}$" % _MIN_PREFIX)  # noqa: UP031 (regex braces)


class _Tok(NamedTuple):
    kind: str      # lparen, rparen, field, phrase, word, op, end
    text: str
    col: int


def parse(text: str) -> Query:
    """Parse a topic query (arXiv search syntax); raises QuerySyntaxError with the column."""
    return _Parser(text).parse()


class _Parser:
    """Recursive descent: or := and (OR and)*; and := unary ((AND|ANDNOT) unary)*."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = list(self._lex())
        self.pos = 0
        self.depth = 0

    def error(self, message: str, col: int) -> QuerySyntaxError:
        return QuerySyntaxError(message, self.text, col)

    def _lex(self) -> Iterator[_Tok]:
        for m in _LEX.finditer(self.text):
            kind, col, value = m.lastgroup or "", m.start(), m.group()
            if kind == "quote":
                raise self.error('unterminated quote: close the phrase with "', col)
            if kind == "field":
                yield _Tok(kind, self._field(m.group(kind), col), col)
            elif kind == "word" and value in _BINARY:
                yield _Tok("op", value, col)
            elif kind != "space":
                yield _Tok(kind, value, col)
        yield _Tok("end", "", len(self.text))

    def _field(self, name: str, col: int) -> str:
        if name.lower() in FIELDS:
            return name.lower()
        close = difflib.get_close_matches(name.lower(), FIELDS, n=1, cutoff=0.5)
        hint = f"did you mean {close[0]}:? " if close else ""
        raise self.error(f"unknown field prefix {name}: ({hint}fields are "
                         + ", ".join(f + ":" for f in FIELDS) + ")", col)

    def peek(self) -> _Tok:
        return self.toks[self.pos]

    def take(self) -> _Tok:
        tok = self.toks[self.pos]
        self.pos += 1
        return tok

    def parse(self) -> Query:
        if self.peek().kind == "end":
            raise self.error("empty query: write at least one term", 0)
        query = self.or_expr(None)
        if self.peek().kind != "end":
            raise self.unexpected(self.peek())
        return query

    def or_expr(self, field: str | None) -> Query:
        items = [self.and_expr(field)]
        while self.peek().kind == "op" and self.peek().text == "OR":
            items.append(self.and_expr(field, after=self.take()))
        return items[0] if len(items) == 1 else Or(tuple(items))

    def and_expr(self, field: str | None, after: _Tok | None = None) -> Query:
        items = [self.unary(field, after)]
        while self.peek().kind == "op" and self.peek().text in ("AND", "ANDNOT"):
            op = self.take()
            right = self.unary(field, op)
            if op.text == "AND":
                items.append(right)
            else:
                items = [AndNot(_and(items), right)]
        return _and(items)

    def unary(self, field: str | None, after: _Tok | None) -> Query:
        tok = self.take()
        if tok.kind == "field":
            if field is not None:
                raise self.error(f"a field prefix cannot be used inside {field}:( )", tok.col)
            return self.operand(tok.text, self.after_field(tok))
        if tok.kind == "op" or tok.kind in ("rparen", "end") or tok.text == "NOT":
            raise self.missing_term(tok, after)
        if tok.kind == "lparen":
            return self.group(field, tok)
        return self.operand(field or "all", tok)

    def after_field(self, tok: _Tok) -> _Tok:
        nxt = self.take()
        end = tok.col + len(tok.text) + 1
        if nxt.col != end or nxt.kind not in ("word", "op", "phrase", "lparen"):
            raise self.error(f"missing term after {tok.text}: (no space after the colon)", end)
        return nxt

    def operand(self, field: str, tok: _Tok) -> Query:
        if tok.kind == "lparen":
            return self.group(field, tok)
        if tok.kind == "phrase":
            return self.phrase(field, tok)
        return self.word(field, tok)

    def group(self, field: str | None, tok: _Tok) -> Query:
        if self.peek().kind == "rparen":
            raise self.error("empty parentheses", self.peek().col)
        self.depth += 1
        query = self.or_expr(field)
        close = self.peek()
        if close.kind == "end":
            raise self.error("unclosed parenthesis: add a matching )", tok.col)
        if close.kind != "rparen":
            raise self.unexpected(close)
        self.take()
        self.depth -= 1
        return query

    def phrase(self, field: str, tok: _Tok) -> Query:
        inner = tok.text[1:-1]
        if field == "cat":
            raise self.error("a category is one word, not a phrase: write cat:cs.LG", tok.col)
        if "*" in inner:
            raise self.error("a wildcard * cannot be used inside a phrase",
                             tok.col + 1 + inner.index("*"))
        if not textnorm.tokens(inner):
            raise self.error("empty phrase: put words between the quotes", tok.col)
        return Term(field, inner, phrase=True)

    def word(self, field: str, tok: _Tok) -> Query:
        text, star = tok.text, tok.text.find("*")
        if star not in (-1, len(text) - 1):
            raise self.error("a wildcard * must end the word", tok.col + star)
        prefix = star != -1
        text = text.rstrip("*")
        if field == "cat":
            pattern = _CATEGORY_PREFIX if prefix else _CATEGORY
            if not pattern.fullmatch(text):
                raise self.error("not an arXiv category: write e.g. cat:cs.LG or cat:cs.*",
                                 tok.col)
        elif not textnorm.tokens(text):
            raise self.error("the term has no letters or digits", tok.col)
        elif prefix and not _PREFIX_END.search(text):
            raise self.error(f"a wildcard needs at least {_MIN_PREFIX} letters before *",
                             tok.col + star)
        return Term(field, text, prefix=prefix)

    def missing_term(self, tok: _Tok, after: _Tok | None) -> QuerySyntaxError:
        if tok.text == "NOT":
            return self.error("NOT is not an operator: write a ANDNOT b", tok.col)
        if tok.kind == "rparen" and self.depth == 0 and after is None:
            return self.error("unmatched )", tok.col)
        if after is None:
            found = "the end" if tok.kind == "end" else tok.text
            return self.error(f"expected a term, found {found}", tok.col)
        if tok.kind == "end":
            return self.error(f"{after.text} at the end needs a term after it", after.col)
        return self.error(f"expected a term after {after.text}, found {tok.text}", tok.col)

    def unexpected(self, tok: _Tok) -> QuerySyntaxError:
        if tok.kind == "rparen":
            return self.error("unmatched )", tok.col)
        if tok.text.upper() in _BINARY:
            return self.error(f"operators are upper case: write {tok.text.upper()}", tok.col)
        if tok.text == "NOT":
            return self.error("NOT is not an operator: write a ANDNOT b", tok.col)
        return self.error("missing operator before this term: join terms with AND, OR or "
                          'ANDNOT, or quote a phrase ("low rank")', tok.col)


def _and(items: list[Query]) -> Query:
    return items[0] if len(items) == 1 else And(tuple(items))
