"""`villkor fmt`: one canonical layout, comments kept, idempotent.

The text is parsed a second time with every token kept (keywords and punctuation included), and
the file is printed again from that tree, so that the layout is decided, never copied:

- Spacing: one space between tokens, except none inside `( )`, before `,` and `:`, around the `.`
  of `tabell.kolumn`, after a unary `-`, and between `antal`/`summa`/`andel`/`kod` and their `(`:
  `värde a: belopp = 2 000 kr`, `b = 3 * (a + 1)`, `x >= 70 %`, `kod(a, b)`. Texts in quotes,
  names, column names (`1.1a`), villkor numbers (`1.2`), codes, dates and integers of the
  language (`vecka 3 2021`, `14 dagar`) stay exactly as written.
- Numbers: thousands grouped by a space (`2000` → `2 000`, `1234567` → `1 234 567`), leading
  zeros dropped, the decimal comma and the digits after it kept. The unit word is the author's
  (`mnkr`, `miljoner kronor`, `kr`, `%`, `procent` stay as written: they are how the source
  states the figure, and the formatter changes layout, not vocabulary); only `≥ ≤ ≠` become
  `>= <= !=`.
- One item, attribute, column or member per line; blocks (`överenskommelse`, `mottagargrupp`,
  `tabell`, `villkor`, `delvillkor`, `utbetalning`, `fakturering`, `avstämning`, `tillägg`) end
  with `slut` and indent their contents two spaces per level; the `källa`/`antagande` lines of
  `värde`, `parameter`, `frist`, `kontroll` and `summa` (and the expression of a `kontroll`)
  are indented one level under it.
- Where the grammar allows any order, attributes are printed in one order, keeping the relative
  order of attributes of one kind: `villkor`: gäller, källa/antagande, delvillkor, krav,
  redovisas, vid försening, beslut; `delvillkor`: källa/antagande, krav; `utbetalning`:
  villkor/utan villkor, källa/antagande, krav, the amount rule, tak per mottagare, tak totalt,
  avrundning, betalas senast; `överenskommelse`: diarienummer, part, period, undertecknad;
  `fakturering`: källa, kräver, period, produkt; `avstämning`: källa, krav, fakturerat,
  intjänat, beviljat, avrundning, vid återbetalning. Nothing else moves (items, columns,
  members, delvillkor, sources, products keep their order). A block holding an attribute this
  printer does not know keeps its order.
- A line longer than 100 characters is broken before `eller`, else `och`, else `+`/`-` (the
  outermost ones first, outside parentheses first), filling each line, with one extra indent
  level for the continuation lines (two under the first line of an item or block whose
  attributes follow, so that they do not look like attributes). A line with no such operator
  (a long text, a `pott … i förhållande till …`) stays long: texts are never broken.
- Comments (`#` to the end of the line) stay with what they belong to: a comment on a line of its
  own goes with the item, attribute or token that follows it (an attribute moved by the
  canonical order takes its comments along; a comment inside an expression breaks the line
  there), a comment after code stays at the end of that code's line (two spaces before `#`).
- Blank lines: exactly one between top-level items and before each item of a `tillägg`; inside
  blocks and among comments, at most one where the author had one; none at the start of a
  block, before `slut` or at the end of the file. Lines end in `\n`, never in spaces.

The result is parsed again and must give the same syntax tree (spans aside): formatting can
never change what an agreement says. A rule the printer does not know (a grammar addition) is
printed token by token with the same spacing, never an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from lark import Lark, Token, Tree

from .diagnostics import Diagnostic
from .syntax.grammar import OPTIONS, cached_lark, grammar_text
from .syntax.parse import parse_text

INDENT = "  "
WIDTH = 100

SOURCES = {"source", "assumption"}
# Blocks whose header has a fixed number of children (tokens and trees) before the attributes.
HEADER_LEN = {"agreement": 2, "listed_group": 2, "villkor": 3, "subvillkor": 3, "payment": 3,
              "invoicing": 5, "reconciliation": 5, "amendment": 6, "check": 2}
# Items whose attributes start at the first child of one of these kinds (the header before it
# varies: optional parts, an expression).
BODY_START = {"table": {"column"}, "records": {"column"}, "value": SOURCES,
              "parameter": SOURCES, "event": SOURCES, "total": SOURCES}
# One line, no attributes.
SINGLE = {"document", "table_group", "record_group"}
# The canonical order of attributes where the grammar allows any order.
_RANKS = {
    "villkor": [["applies"], ["source", "assumption"], ["subvillkor"], ["requirement"],
                ["report_due"], ["late_rule"], ["review"]],
    "subvillkor": [["source", "assumption"], ["requirement"]],
    "payment": [["pay_villkor", "no_villkor"], ["source", "assumption"], ["requirement"],
                ["fixed", "per_member", "pot"], ["cap_each"], ["cap_total"], ["rounding"],
                ["due"]],
    "agreement": [["diarienummer"], ["part"], ["period"], ["signed"]],
    "invoicing": [["source", "assumption"], ["invoice_requires"], ["invoice_period"],
                  ["invoice_product"]],
    "reconciliation": [["source", "assumption"], ["requirement"], ["recon_invoiced"],
                       ["recon_earned"], ["recon_granted"], ["rounding"], ["recon_repay"]],
}
ORDER = {rule: {kind: rank for rank, kinds in enumerate(ranks) for kind in kinds}
         for rule, ranks in _RANKS.items()}
# Where a long line may break: before these operators, outermost (lowest number) first.
BREAKS = {"or_": 0, "and_": 1, "add": 2, "sub": 2}
GLUE_AFTER = {"negate"}   # `-a`: no space after the sign
CMP = {"≠": "!=", "≤": "<=", "≥": ">="}


@lru_cache(maxsize=1)
def full_parser() -> Lark:
    """The same grammar, with every token kept in the tree: the printer needs the keywords."""
    return cached_lark(grammar_text(), **OPTIONS, keep_all_tokens=True)


def format_text(text: str, name: str = "<text>") -> tuple[str | None, list[Diagnostic]]:
    """The formatted text, or None with the diagnostics that stop formatting (syntax errors)."""
    before, diags = parse_text(text, name)
    if before is None:
        return None, diags
    tree = full_parser().parse(before.text)
    result = _Printer(before.text, tree).module(tree)
    after, _ = parse_text(result, name)
    if after is None or after.items != before.items:   # spans are not compared
        raise AssertionError("formateringen ändrade innehållet")  # a bug, never user error
    return result, diags


# ---- tokens -------------------------------------------------------------------------------

def canonical_number(token: str) -> str:
    """`2000` → `2 000`, `1234567,50` → `1 234 567,50`, `0015` → `15`; decimals as written."""
    digits = token.replace(" ", "").replace("\u00a0", "")
    whole, comma, decimals = digits.partition(",")
    return f"{int(whole):,}".replace(",", " ") + comma + decimals


def _token_text(tok: Token) -> str:
    if tok.type == "NUMBER":
        return canonical_number(str(tok))
    if tok.type == "CMP_OP":
        return CMP.get(str(tok), str(tok))
    return str(tok)


@dataclass
class _Piece:
    """A token as printed: its text, whether a space goes before it, and whether (and how
    readily) a long line may break before it: (paren depth, operator level)."""

    tok: Token
    text: str
    space: bool
    brk: tuple[int, int] | None = None


def _flatten(nodes: list) -> list[_Piece]:
    """The tokens of some subtrees in order, with canonical spacing (no recursion: deep
    expressions are allowed)."""
    out: list[_Piece] = []
    stack: list[tuple[Tree | Token, Tree | None, int]] = [(n, None, 0) for n in reversed(nodes)]
    depth, glue_next = 0, False
    while stack:
        node, parent, index = stack.pop()
        if isinstance(node, Tree):
            stack.extend((c, node, i) for i, c in reversed(list(enumerate(node.children))))
            continue
        text = _token_text(node)
        prev = out[-1].text if out else None
        space = prev is not None and not (
            text in (")", ",", ":", ".") or prev in ("(", ".")
            or (text == "(" and parent is not None and index > 0
                and isinstance(parent.children[index - 1], Token))
            or glue_next)
        glue_next = parent is not None and parent.data in GLUE_AFTER and index == 0
        brk = None
        if parent is not None and index == 1 and parent.data in BREAKS:
            brk = (depth, BREAKS[parent.data])
        if text == "(":
            depth += 1
        elif text == ")":
            depth = max(0, depth - 1)
        out.append(_Piece(node, text, space, brk))
    return out


def _width(pieces: list[_Piece]) -> int:
    return sum(len(p.text) + (1 if p.space and i else 0) for i, p in enumerate(pieces))


def _join(pieces: list[_Piece]) -> str:
    return "".join((" " if p.space and i else "") + p.text for i, p in enumerate(pieces))


def _layout(pieces: list[_Piece], first: int, cont: int) -> list[list[_Piece]]:
    """Lines of at most WIDTH characters where the break points allow: break before the
    outermost operators of the lowest level, fill each line, then break further where a line
    is still too long. `first` and `cont` are the indent widths."""
    if first + _width(pieces) <= WIDTH:
        return [pieces]
    candidates = [p.brk for p in pieces[1:] if p.brk is not None]
    if not candidates:
        return [pieces]
    best = min(candidates)
    segments: list[list[_Piece]] = [[]]
    for i, p in enumerate(pieces):
        if i and p.brk == best:
            segments.append([])
        segments[-1].append(p)
    lines, current, indent = [], segments[0], first
    for seg in segments[1:]:
        if indent + _width(current + seg) <= WIDTH:
            current = current + seg
        else:
            lines.append(current)
            current, indent = seg, cont
    lines.append(current)
    out: list[list[_Piece]] = []
    for i, line in enumerate(lines):
        out.extend(_layout(line, first if i == 0 else cont, cont))
    return out


# ---- comments and blank lines ---------------------------------------------------------------

def _trivia(text: str, tokens: list[Token]):
    """Comments and blank lines between the tokens: for each token (by start position) what
    stands on the lines before it ("" a blank line, else a comment), the comment ending its
    line, and what follows the last token."""
    lead: dict[int, list[str]] = {}
    trail: dict[int, str] = {}
    prev: Token | None = None
    prev_start = 0
    for tok in tokens + [None]:
        start = tok.start_pos if tok is not None else len(text)
        assert start is not None   # the lexer gives every token its position
        gap = text[(prev.end_pos if prev is not None else 0):start]
        lines = gap.split("\n")
        if prev is not None:
            same_line = lines.pop(0).strip()
            if same_line:
                trail[prev_start] = same_line
        if tok is not None or (lines and not lines[-1].strip()):
            lines = lines[:-1]      # the indent before the token, or the end of the last line
        entries = [line.strip() for line in lines]
        if any(e and not e.startswith("#") for e in entries):
            raise AssertionError("en token saknas i trädet")  # a bug, never user error
        lead[start if tok is not None else -1] = entries
        prev, prev_start = tok, start
    return lead, trail


def _collapse(entries: list[str]) -> list[str]:
    out: list[str] = []
    for e in entries:
        if e or (out and out[-1]):
            out.append(e)
        elif not out:
            out.append(e)
    return out


# ---- the printer ----------------------------------------------------------------------------

class _Printer:
    def __init__(self, text: str, tree: Tree):
        tokens = sorted(tree.scan_values(lambda v: isinstance(v, Token)),
                        key=lambda t: t.start_pos)
        self.lead, self.trail = _trivia(text, tokens)

    # -- comments before something
    def _comments(self, tok: Token | None, depth: int, blank: str) -> list[str]:
        """The lines before a token: `blank` is "force" (exactly one blank line first), "keep"
        (one if the author had one) or "drop" (none first)."""
        entries = _collapse(self.lead.get(tok.start_pos if tok is not None else -1, []))
        had_blank = bool(entries) and entries[0] == ""
        if had_blank:
            entries = entries[1:]
        out = [""] if blank == "force" or (blank == "keep" and had_blank) else []
        return out + [INDENT * depth + e if e else "" for e in entries]

    def module(self, tree: Tree) -> str:
        out: list[str] = []
        for i, item in enumerate(tree.children):
            out += self._comments(_first(item), 0, "force" if i else "drop")
            out += self.node(item, 0)
        end = self._comments(None, 0, "keep" if out else "drop")
        while end and end[-1] == "":
            end.pop()
        out += end
        return "\n".join(out) + "\n"

    # -- an item, attribute or block
    def node(self, node: Tree | Token, depth: int) -> list[str]:
        if isinstance(node, Token) or node.data in SINGLE:
            return self.element([node], depth)
        header, body, close = _split(node)
        # a header's continuation lines go one level deeper than its attributes
        lines = self.element(header, depth, 2 if body or close is not None else 1)
        for i, group in enumerate(body):
            first = _first(group[0])
            if node.data == "amendment" and _kind(group[0]) not in SOURCES:
                blank = "force"
            else:
                blank = "keep" if i else "drop"
            lines += self._comments(first, depth + 1, blank)
            if len(group) == 1:
                lines += self.node(group[0], depth + 1)
            else:
                lines += self.element(group, depth + 1)
        if close is not None:
            before = self._comments(close, depth + 1, "keep")
            while before and before[-1] == "":
                before.pop()
            lines += before + self.element([close], depth)
        return lines

    # -- one statement: a line and its continuation lines
    def element(self, nodes: list, depth: int, extra: int = 1) -> list[str]:
        """Continuation lines are indented `extra` levels deeper than the first."""
        pieces = _flatten(nodes)
        if not pieces:
            return []
        # Comments inside the statement break it: own-line comments before a token, a comment
        # at the end of a line after its token.
        chunks: list[tuple[list[str], list[_Piece]]] = [([], [])]
        for i, p in enumerate(pieces):
            comments = [e for e in self.lead.get(p.tok.start_pos, []) if e] if i else []
            if comments and chunks[-1][1]:
                chunks.append((comments, []))
            elif comments:
                chunks[-1][0].extend(comments)
            chunks[-1][1].append(p)
            if p.tok.start_pos in self.trail and i < len(pieces) - 1:
                chunks.append(([], []))
        lines: list[str] = []
        cont = depth + extra
        for n, (comments, chunk) in enumerate(chunks):
            if not chunk:
                continue
            level = depth if n == 0 else cont
            lines += [INDENT * cont + c for c in comments]
            for k, line in enumerate(_layout(chunk, len(INDENT) * level, len(INDENT) * cont)):
                lines.append(INDENT * (level if k == 0 else cont) + _join(line))
            comment = self.trail.get(chunk[-1].tok.start_pos)
            if comment:
                lines[-1] += "  " + comment
        return lines


def _first(node: Tree | Token) -> Token | None:
    if isinstance(node, Token):
        return node
    return next(node.scan_values(lambda v: isinstance(v, Token)), None)


def _kind(node: Tree | Token) -> str | None:
    return node.data if isinstance(node, Tree) else None


def _split(node: Tree) -> tuple[list, list[list], Token | None]:
    """Header children, attribute groups (usually one tree each) and the closing `slut`."""
    kids = list(node.children)
    close: Token | None = None
    last = kids[-1] if kids else None
    if isinstance(last, Token) and str(last) == "slut":
        close = last
        kids.pop()
    if node.data in HEADER_LEN:
        start = min(HEADER_LEN[node.data], len(kids))
    else:
        if node.data in BODY_START:
            starts = BODY_START[node.data]
        elif close is not None:         # an unknown block: every tree after the leading tokens
            starts = None
        else:                           # an unknown one-line rule: its sources below it
            starts = SOURCES
        start = next((i for i, k in enumerate(kids) if isinstance(k, Tree)
                      and (starts is None or k.data in starts)), len(kids))
    header = kids[:start]
    groups: list[list] = []
    for k in kids[start:]:
        if isinstance(k, Tree) or not groups:
            groups.append([k])
        else:
            groups[-1].append(k)   # a stray token belongs with the attribute before it
    ranks = ORDER.get(node.data)
    if ranks and all(len(g) == 1 and _kind(g[0]) in ranks for g in groups):
        groups.sort(key=lambda g: ranks[g[0].data])
    return header, groups, close
