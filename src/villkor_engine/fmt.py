"""`villkor fmt`: one canonical layout, comments kept, idempotent.

The layout is decided by the parse tree, line by line: two spaces per open block (`villkor … slut`),
one more for the continuation lines of a statement, single spaces between words (texts and
comments untouched), at most one blank line in a row. The result is parsed again and must give
the same syntax tree (spans aside) — formatting can never change what an agreement says.
"""

from __future__ import annotations

import re

from lark import Tree

from .diagnostics import Diagnostic
from .syntax.grammar import parser
from .syntax.parse import parse_text

INDENT = "  "
BLOCKS = {"agreement", "listed_group", "table", "records", "villkor", "subvillkor", "payment",
          "invoicing", "reconciliation", "amendment"}
_TOKEN = re.compile(r'"[^"\n]*"|#.*$|[^"#]+', re.MULTILINE)


def format_text(text: str, name: str = "<text>") -> tuple[str | None, list[Diagnostic]]:
    """The formatted text, or None with the diagnostics that stop formatting (syntax errors)."""
    before, diags = parse_text(text, name)
    if before is None:
        return None, diags
    tree = parser().parse(before.text)
    lines = before.text.splitlines()
    depth = _depths(tree, len(lines))
    out: list[str] = []
    for i, line in enumerate(lines, start=1):
        body = _squeeze(line.strip())
        if not body:
            if out and out[-1] != "":
                out.append("")
            continue
        out.append(INDENT * depth[i] + body)
    while out and out[-1] == "":
        out.pop()
    result = "\n".join(out) + "\n"
    after, _ = parse_text(result, name)
    if after is None or after.items != before.items:   # spans are not compared
        raise AssertionError("formateringen ändrade innehållet")  # a bug, never user error
    return result, diags


def _depths(tree: Tree, n: int) -> list[int]:
    """Indent level of every line: open blocks around it plus statement continuation."""
    depth = [0] * (n + 2)
    stack = [(tree, True)]
    while stack:
        node, is_statement = stack.pop()
        if not isinstance(node, Tree) or getattr(node.meta, "empty", True):
            if isinstance(node, Tree):
                stack.extend((c, False) for c in node.children)
            continue
        first, last = node.meta.line, node.meta.end_line
        if node.data in BLOCKS:
            for line in range(first + 1, last):
                depth[line] += 1
            stack.extend((c, True) for c in node.children)
        elif is_statement and node.data != "start":
            for line in range(first + 1, last + 1):
                depth[line] += 1
            stack.extend((c, False) for c in node.children if isinstance(c, Tree)
                         and c.data in BLOCKS)
        else:
            stack.extend((c, node.data == "start") for c in node.children)
    return depth


def _squeeze(line: str) -> str:
    """Single spaces between words; texts in quotes and comments stay as written."""
    parts = []
    for m in _TOKEN.finditer(line):
        piece = m.group(0)
        parts.append(piece if piece.startswith(('"', "#")) else re.sub(r"[ \t]+", " ", piece))
    return "".join(parts).rstrip()
