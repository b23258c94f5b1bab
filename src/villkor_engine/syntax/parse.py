"""Text → syntax tree, with Swedish syntax errors. Never raises on user input.

Lark's exceptions are converted here into diagnostics naming file, line and column, with the
expected tokens in words. After a syntax error, each top-level item (a line starting in column 1
with a top-level keyword) is parsed again on its own with the rest blanked out, so one run
reports a mistake in every broken item while positions stay exact.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from fractions import Fraction
from pathlib import Path

from lark import Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from ..diagnostics import Diagnostic, Diagnostics, Span, utf8_error_span
from . import ast
from .grammar import parser

MAX_FILE_BYTES = 1_000_000
MAX_DEPTH = 100
MAX_DIGITS = 100   # a literal longer than this is a mistake (and Python's int() has limits)

TOP_KEYWORDS = ("överenskommelse", "dokument", "mottagargrupp", "tabell", "parameter", "värde",
                "villkor", "utbetalning", "frist", "kontroll", "summa", "fakturering", "avstämning",
                "tillägg")

# Terminal names in words, for "väntade …" in syntax errors.
TERMINAL_WORDS = {
    "NAME": "ett namn", "STRING": "en text inom citattecken", "NUMBER": "ett tal",
    "DATE": "ett datum (ÅÅÅÅ-MM-DD)", "VID": "ett villkorsnummer (t.ex. 1 eller 1.2)",
    "COLUMN": "ett kolumnnamn", "CODE": "en kod", "INT": "ett heltal",
    "CMP_OP": "en jämförelse (=, <, >, <=, >=, !=)", "LPAR": "`(`", "RPAR": "`)`",
    "COMMA": "`,`", "COLON": "`:`", "DOT": "`.`", "PLUS": "`+`", "MINUS": "`-`", "STAR": "`*`",
    "SLASH": "`/`", "EQUAL": "`=`", "PERCENT": "`%`", "$END": "filens slut",
    "DECIMAL_MARK": "`komma` eller `punkt`",
}


def parse_file(path: str | Path) -> tuple[ast.Module | None, list[Diagnostic]]:
    """Read and parse an agreement file; unreadable, oversized or non-UTF-8 files are
    diagnostics."""
    name = str(path)
    try:
        size = Path(path).stat().st_size
        if size > MAX_FILE_BYTES:   # said before reading: a 2 GB file is not read at all
            return None, [Diagnostic("V002", f"filen är för stor ({size} byte; högst "
                                     f"{MAX_FILE_BYTES})", Span.point(name),
                                     hint="dela upp överenskommelsen i flera filer")]
        with open(path, "rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        return None, [Diagnostic("V001", f"filen `{name}` finns inte", None,
                                 hint="kontrollera sökvägen")]
    except IsADirectoryError:
        return None, [Diagnostic("V001", f"`{name}` är en mapp, inte en fil", None,
                                 hint="ange överenskommelsefilen, t.ex. agreements/NAMN.villkor")]
    except PermissionError:
        return None, [Diagnostic("V001", f"filen `{name}` får inte läsas (behörighet saknas)",
                                 None)]
    except OSError as exc:
        return None, [Diagnostic("V001", f"filen `{name}` kan inte läsas (felkod {exc.errno})",
                                 None)]
    if len(raw) > MAX_FILE_BYTES:
        return None, [Diagnostic("V002", f"filen är för stor ({len(raw)} byte; högst "
                                 f"{MAX_FILE_BYTES})", Span.point(name),
                                 hint="dela upp överenskommelsen i flera filer")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [Diagnostic("V003", "filen är inte giltig UTF-8 (byte "
                                 f"0x{raw[exc.start]:02x})", utf8_error_span(name, raw, exc.start),
                                 hint="spara filen som UTF-8 i din editor")]
    return parse_text(text, name)


def parse_text(text: str, file: str = "<text>") -> tuple[ast.Module | None, list[Diagnostic]]:
    text = unicodedata.normalize("NFC", text.removeprefix("\ufeff"))
    if len(text.encode("utf-8")) > MAX_FILE_BYTES:
        return None, [Diagnostic("V002", "texten är för stor", Span.point(file))]
    diags = Diagnostics()
    deep = _paren_depth(text, file)
    if deep is not None:
        return None, [deep]
    tree = _parse_tree(text, file, diags)
    if tree is None:
        _recover(text, file, diags)
        return None, diags.items
    nested = _too_deep(tree)
    if nested is not None:
        diags.add("V005", f"uttrycket är för djupt nästlat (mer än {MAX_DEPTH} nivåer)",
                  _meta_span(nested, file), hint="dela upp uttrycket med `värde`")
        return None, diags.items
    builder = _Builder(file, diags)
    items = tuple(builder.item(child) for child in tree.children)
    if diags.has_errors:
        return None, diags.items
    return ast.Module(file, items, text), diags.items


# ---- errors ----------------------------------------------------------------------

def _parse_tree(text: str, file: str, diags: Diagnostics) -> Tree | None:
    try:
        return parser().parse(text)
    except UnexpectedInput as exc:
        code, msg, span, hint = _syntax_error(exc, text, file)
        diags.add(code, msg, span, hint=hint, notes=_open_paren(exc, text))
        return None


def _open_paren(exc: UnexpectedInput, text: str) -> tuple[str, ...]:
    """When a `)` is missing, say where the `(` it would close was opened."""
    expected = getattr(exc, "accepts", None) or getattr(exc, "expected", None) or ()
    if "RPAR" not in expected:
        return ()
    pos = getattr(exc, "pos_in_stream", None)
    stack: list[tuple[int, int]] = []
    for ch, line, column in _parens(text[:pos] if pos is not None else text):
        if ch == "(":
            stack.append((line, column))
        elif stack:
            stack.pop()
    if not stack:
        return ()
    line, column = stack[-1]
    return (f"parentesen som inte stängs öppnades på rad {line}, kolumn {column}",)


def _syntax_error(exc: UnexpectedInput, text: str, file: str):
    line, column = getattr(exc, "line", 1) or 1, getattr(exc, "column", 1) or 1
    if isinstance(exc, UnexpectedCharacters):
        at = exc.pos_in_stream
        char = text[at] if at is not None and at < len(text) else ""
        span = Span(file, line, column, line, column + 1)
        msg = f"oväntat tecken `{char}`"
        hint = _expected(exc.allowed)
        if char in "“”„":
            hint = "använd raka citattecken \" runt texter"
        return "V010", msg, span, hint
    if isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken)
                                          and exc.token.type == "$END"):
        last = text.rstrip().splitlines() or [""]
        span = Span.point(file, max(1, len(last)), len(last[-1]) + 1)
        expected = exc.expected if isinstance(exc, UnexpectedEOF) else exc.accepts or exc.expected
        return ("V011", "filen tar slut mitt i en deklaration", span,
                _expected(expected) or "saknas ett `slut`?")
    if not isinstance(exc, UnexpectedToken):   # pragma: no cover - lark's other kinds
        return "V012", "oväntat tecken", Span.point(file, line, column), None
    tok = exc.token
    span = Span(file, tok.line, tok.column, tok.end_line or tok.line,
                (tok.end_column or tok.column + len(tok)), tok.start_pos or 0, tok.end_pos or 0)
    word = str(tok)
    msg = f"oväntat `{word}`"
    if tok.type in ("NAME", "COLUMN", "CODE") and tok.type not in (exc.accepts or exc.expected):
        msg = f"oväntat ord `{word}`"
    return "V012", msg, span, _number_hint(text, tok) or _expected(exc.accepts or exc.expected)


UNIT_WORDS = {"mkr": "mnkr", "msek": "mnkr", "mdkr": "mnkr", "miljon": "miljoner kronor",
              "sek": "kr", "kronor.": "kronor", "tkr": "kr", "tusen": "kr", "procent.": "%"}


def _number_hint(text: str, tok: Token) -> str | None:
    """The hint for a number written another way than the language's: `120.5` (the decimal
    mark is a comma) or `120 Mkr` (a unit word it does not know)."""
    pos = tok.start_pos or 0
    before = text[max(0, pos - 30):pos]
    whole = re.search(r"[0-9][0-9 ]*$", before)
    decimals = re.match(r"[0-9]+", text[pos + 1:])
    if str(tok) == "." and whole is not None and decimals is not None:
        return (f"decimaltecknet är komma: skriv `{whole.group(0).strip()},{decimals.group(0)}` "
                "(punkt är inte decimaltecken i en överenskommelse)")
    if tok.type in ("NAME", "COLUMN", "CODE") and re.search(r"\d[ \u00a0]*$", before):
        unit = UNIT_WORDS.get(str(tok).lower())
        if unit is not None:
            return f"okänd enhet `{tok}`: skriv `{unit}`" + (
                " eller `miljoner kronor`" if unit == "mnkr" else "")
        return ("efter ett tal kan en enhet stå: `kr`, `kronor`, `mnkr`, `miljoner kronor`, `%`, "
                "`procent` eller `dagar`")
    return None


def _expected(names) -> str | None:
    words = sorted({_word(n) for n in names if not n.startswith("_") and n != "COMMENT"})
    if not words:
        return None
    if len(words) > 8:
        words = words[:8] + ["…"]
    return "väntade " + ", ".join(words)


def _word(terminal: str) -> str:
    if terminal in TERMINAL_WORDS:
        return TERMINAL_WORDS[terminal]
    term = next((t for t in parser().terminals if t.name == terminal), None)
    if term is not None and term.pattern.type == "str":
        return f"`{term.pattern.value}`"
    return terminal.lower()


def _chunks(text: str) -> list[tuple[int, int, str]]:
    """Top-level items (a keyword in column 1 starts one), each alone with the rest blanked,
    so that positions stay those of the whole file."""
    starts = [m.start() for m in re.finditer(
        r"^(?:" + "|".join(TOP_KEYWORDS) + r")\b", text, flags=re.MULTILINE)]
    bounds = list(zip(starts, starts[1:] + [len(text)]))
    return [(b, e, re.sub(r"[^\n]", " ", text[:b]) + text[b:e] + re.sub(r"[^\n]", " ", text[e:]))
            for b, e in bounds]


def parse_partial(text: str, file: str) -> tuple[ast.Module | None, set[str]]:
    """After a syntax error: the items that do parse, and the names the broken ones declare.

    The checker can then still report mistakes in the good items; findings about the broken
    items' names are left out, since they are consequences, not mistakes of their own.
    """
    text = unicodedata.normalize("NFC", text.removeprefix("\ufeff"))
    items: list[ast.Item] = []
    broken: set[str] = set()
    for begin, end, masked in _chunks(text):
        try:
            tree = parser().parse(masked)
        except UnexpectedInput:
            amendment = _partial_amendment(text, begin, end, file, broken)
            if amendment is not None:
                items.append(amendment)
                continue
            m = re.match(r"(\w+)\s+([\w.]+)", text[begin:])
            if m:
                broken.add(m.group(2))
            continue
        if _too_deep(tree) is not None:
            return None, broken
        builder = _Builder(file, Diagnostics())
        items.extend(builder.item(child) for child in tree.children if isinstance(child, Tree))
    return (ast.Module(file, tuple(items), text) if items else None), broken


# An item inside a `tillägg` starts its line (after indentation) like one of these; a payment's
# `villkor 1` line has no title, so it is not taken for a villkor.
_INNER = re.compile(r'^[ \t]*(?:villkor\s+[\d.]+\s+"|utbetalning\s+\w+\s+"|värde\s+\w|'
                    r'frist\s+\w+\s+"|kontroll\s+")', re.MULTILINE)
_AMENDMENT = re.compile(r'tillägg\s+(\w+)\s+"([^"\n]*)"\s+gäller\s+från\s+(\d{4}-\d{2}-\d{2})')
_SOURCE = re.compile(r'källa\s+(\w+)(?:[ \t]+"([^"\n]*)")?')


def _partial_amendment(text: str, begin: int, end: int, file: str,
                       broken: set[str]) -> ast.Amendment | None:
    """A broken `tillägg`: its items, each parsed alone, so one misspelt keyword costs only its
    own item (and the findings that depend on it), not the whole block."""
    head = _AMENDMENT.match(text, begin)
    closing = [m.start() for m in re.finditer(r"\bslut\b", text[begin:end])]
    if head is None or not closing:
        return None
    stop = begin + closing[-1]
    starts = [begin + m.start() for m in _INNER.finditer(text[begin:stop])]
    if not starts:
        return None
    blank = lambda t: re.sub(r"[^\n]", " ", t)   # noqa: E731 - positions stay the file's
    items: list[ast.Item] = []
    for b, e in zip(starts, starts[1:] + [stop]):
        try:
            tree = parser().parse(blank(text[:b]) + text[b:e] + blank(text[e:]))
        except UnexpectedInput:
            m = re.match(r"\s*(\w+)\s+([\w.]+)", text[b:])
            if m:
                broken.add(m.group(2))
            continue
        if _too_deep(tree) is None:
            items.extend(_Builder(file, Diagnostics()).item(c) for c in tree.children
                         if isinstance(c, Tree))
    try:
        in_force = date.fromisoformat(head.group(3))
    except ValueError:
        return None
    sources = tuple(ast.Source(m.group(1), m.group(2)) for m in _SOURCE.finditer(
        text, head.end(), starts[0]))
    return ast.Amendment(head.group(1), head.group(2), in_force, sources, tuple(items),
                         Span.point(file, text.count("\n", 0, begin) + 1))


def _recover(text: str, file: str, diags: Diagnostics) -> None:
    """Parse each top-level item alone to find the syntax errors after the first."""
    chunks = _chunks(text)
    if len(chunks) < 2:
        return
    seen = {(d.span.line, d.span.column) for d in diags.items if d.span}
    for _, _, masked in chunks:
        try:
            parser().parse(masked)
        except UnexpectedInput as exc:
            code, msg, span, hint = _syntax_error(exc, masked, file)
            if (span.line, span.column) not in seen:
                seen.add((span.line, span.column))
                diags.add(code, msg, span, hint=hint)


def _parens(text: str):
    """Each `(` and `)` outside texts and comments, with its line and column (1-based)."""
    line, col = 1, 0
    in_string = in_comment = False
    for ch in text:
        col += 1
        if ch == "\n":
            line, col, in_string, in_comment = line + 1, 0, False, False
        elif in_comment:
            continue
        elif ch == '"':
            in_string = not in_string
        elif in_string:
            continue
        elif ch == "#":
            in_comment = True
        elif ch in "()":
            yield ch, line, col


def _paren_depth(text: str, file: str) -> Diagnostic | None:
    """Parentheses vanish from the tree, so their nesting is bounded on the text itself."""
    depth = 0
    for ch, line, col in _parens(text):
        if ch == "(":
            depth += 1
            if depth > MAX_DEPTH:
                return Diagnostic("V005", f"för många nästlade parenteser (högst {MAX_DEPTH})",
                                  Span(file, line, col, line, col + 1),
                                  hint="dela upp uttrycket med `värde`")
        else:
            depth = max(0, depth - 1)
    return None


def _too_deep(tree: Tree) -> Tree | None:
    """The first node nested deeper than the limit, found without recursion (no stack to blow)."""
    stack = [(tree, 1)]
    while stack:
        node, d = stack.pop()
        if d > MAX_DEPTH:
            return node
        stack.extend((c, d + 1) for c in node.children if isinstance(c, Tree))
    return None


def _meta_span(tree: Tree, file: str) -> Span:
    m = tree.meta
    if getattr(m, "empty", True):
        return Span.point(file)
    return Span(file, m.line, m.column, m.end_line, m.end_column, m.start_pos, m.end_pos)


# ---- building the syntax tree -------------------------------------------------------

def _number(token: Token | Tree) -> Fraction:
    return Fraction(re.sub(r"[ \u00a0]", "", str(token)).replace(",", "."))


UNIT_SCALE = {
    "miljoner kronor": (Fraction(10**6), "kr"), "miljoner kr": (Fraction(10**6), "kr"),
    "mnkr": (Fraction(10**6), "kr"), "kronor": (Fraction(1), "kr"), "kr": (Fraction(1), "kr"),
    "%": (Fraction(1, 100), "%"), "procent": (Fraction(1, 100), "%"),
    "dagar": (Fraction(1), "dagar"),
}

BINARY = {"add": "+", "sub": "-", "mul": "*", "div": "/"}
SOURCES = ("source", "assumption")
CMP = {"≠": "!=", "≤": "<=", "≥": ">="}


class _Builder:
    """Walks Lark's tree into `ast` nodes. Attribute blocks are gathered by kind."""

    def __init__(self, file: str, diags: Diagnostics):
        self.file = file
        self.diags = diags

    def span(self, node: Tree | Token) -> Span:
        if isinstance(node, Token):
            line, column = node.line or 1, node.column or 1
            return Span(self.file, line, column, node.end_line or line,
                        node.end_column or column + len(node), node.start_pos or 0,
                        node.end_pos or 0)
        return _meta_span(node, self.file)

    def date(self, tok: Token | Tree) -> date:
        try:
            return date.fromisoformat(str(tok))
        except ValueError:
            self.diags.add("V013", f"`{tok}` är inget giltigt datum", self.span(tok),
                           hint="skriv datum som ÅÅÅÅ-MM-DD, t.ex. 2020-12-11")
            return date(1970, 1, 1)

    @staticmethod
    def text(tok: Token | Tree) -> str:
        return str(tok)[1:-1]

    # -- items
    def item(self, t: Tree) -> ast.Item:
        return getattr(self, "i_" + t.data)(t)

    def i_agreement(self, t: Tree) -> ast.Agreement:
        title = self.text(t.children[0])
        dnr, parties, period, signed = None, [], None, []
        for a in t.children[1:]:
            if a.data == "diarienummer":
                dnr = self.text(a.children[0])
            elif a.data == "part":
                parties.append(self.text(a.children[0]))
            elif a.data == "period":
                period = (self.date(a.children[0]), self.date(a.children[1]))
            elif a.data == "signed":
                who = self.text(a.children[1]) if len(a.children) > 1 else None
                signed.append((self.date(a.children[0]), who))
        return ast.Agreement(title, dnr, tuple(parties), period, tuple(signed), self.span(t))

    def i_document(self, t: Tree) -> ast.Document:
        dated = self.date(t.children[2].children[0]) if len(t.children) > 2 else None
        return ast.Document(str(t.children[0]), self.text(t.children[1]), dated, self.span(t))

    def i_table_group(self, t: Tree) -> ast.Group:
        name, table, column = (str(c) for c in t.children)
        return ast.Group(name, table, column, (), self.span(t))

    def i_record_group(self, t: Tree) -> ast.Group:
        name, table, column, *label = (str(c) for c in t.children)
        return ast.Group(name, table, label[0] if label else None, (), self.span(t), via=column)

    def i_records(self, t: Tree) -> ast.RecordTable:
        kids = list(t.children)
        name, file = str(kids.pop(0)), self.text(kids.pop(0))
        optional = bool(kids and isinstance(kids[0], Tree) and kids[0].data == "optional")
        links = tuple(ast.Link(str(k.children[0]), str(k.children[1]), self.span(k))
                      for k in kids if isinstance(k, Tree) and k.data == "link")
        columns = tuple(self.column(c) for c in kids if isinstance(c, Tree) and c.data == "column")
        return ast.RecordTable(name, file, optional, links, columns, self.span(t),
                               self.decimal_mark(kids))

    def i_invoicing(self, t: Tree) -> ast.Invoicing:
        name, title, table, attrs = str(t.children[0]), self.text(t.children[1]), \
            str(t.children[2]), t.children[3:]
        requires = tuple((str(a.children[0]), self.text(a.children[1]))
                         for a in attrs if a.data == "invoice_requires")
        period = self._single(t, attrs, "invoice_period", "`period`")
        products = []
        for a in (a for a in attrs if a.data == "invoice_product"):
            opts = {o.data: o for o in a.children[2:]}
            price = opts.get("product_price")
            cap = opts.get("product_cap")
            products.append(ast.Product(str(a.children[0]), self.text(a.children[1]),
                                        self.expr(price.children[0]) if price else None,
                                        self.expr(cap.children[0]) if cap else None,
                                        self.span(a)))
        return ast.Invoicing(name, title, table, self.sources(attrs), requires,
                             (self.date(period.children[0]), self.date(period.children[1]))
                             if period else None, tuple(products), self.span(t))

    def i_reconciliation(self, t: Tree) -> ast.Reconciliation:
        name, title, group, attrs = str(t.children[0]), self.text(t.children[1]), \
            str(t.children[2]), t.children[3:]
        parts = {k: self._single(t, attrs, k, f"`{w}`") for k, w in
                 (("recon_invoiced", "fakturerat"), ("recon_earned", "intjänat"),
                  ("recon_granted", "beviljat"))}
        expr = {k: self.expr(v.children[0]) if v else None for k, v in parts.items()}
        req = self._single(t, attrs, "requirement", "`krav`")
        rounding = self._single(t, attrs, "rounding", "`avrundning`")
        repay = self._single(t, attrs, "recon_repay", "`vid återbetalning`")
        return ast.Reconciliation(name, title, group, self.sources(attrs), expr["recon_invoiced"],
                                  expr["recon_earned"], expr["recon_granted"], self.span(t),
                                  self.expr(req.children[0]) if req else None,
                                  self.rounding(rounding) if rounding else None,
                                  self.verdict_text(repay.children[0]) if repay else None)

    def i_listed_group(self, t: Tree) -> ast.Group:
        members = tuple(ast.Member(str(m.children[0]), self.text(m.children[1]), self.span(m))
                        for m in t.children[1:])
        return ast.Group(str(t.children[0]), None, None, members, self.span(t))

    def i_table(self, t: Tree) -> ast.Table:
        kids = list(t.children)
        name, file = str(kids.pop(0)), self.text(kids.pop(0))
        optional = bool(kids and isinstance(kids[0], Tree) and kids[0].data == "optional")
        if optional:
            kids.pop(0)
        decimal = self.decimal_mark(kids)
        if decimal is not None:
            kids.pop(0)
        group = str(kids.pop(0))
        per_villkor = bool(kids and isinstance(kids[0], Tree) and kids[0].data == "per_villkor")
        if per_villkor:
            kids.pop(0)
        keys = tuple(str(k) for k in kids if isinstance(k, Token))
        columns = tuple(self.column(c) for c in kids if isinstance(c, Tree))
        return ast.Table(name, file, optional, group, per_villkor, keys, columns, self.span(t),
                         decimal)

    @staticmethod
    def decimal_mark(kids: list) -> str | None:
        """`komma` or `punkt` from a table's `decimaltecken …` (first tree after `valfri`)."""
        mark = next((k for k in kids if isinstance(k, Tree) and k.data == "decimal_mark"), None)
        return str(mark.children[-1]) if mark is not None else None

    def column(self, t: Tree) -> ast.Column:
        flags = tuple(str(f.children[0]) for f in t.children[2:])
        return ast.Column(str(t.children[0]), self.type(t.children[1]), flags, self.span(t))

    def type(self, t: Tree) -> ast.TypeRef:
        if t.data in ("enum_type", "column_enum_type"):
            return ast.TypeRef("kod", tuple(str(c) for c in t.children), self.span(t))
        return ast.TypeRef(str(t.children[0]), (), self.span(t))

    def sources(self, children) -> tuple[ast.Source, ...]:
        """Citations and assumptions (`antagande "…"`, a Source without a document), in order."""
        return tuple(ast.Source(None, self.text(s.children[0]), self.span(s))
                     if s.data == "assumption" else
                     ast.Source(str(s.children[0]),
                                self.text(s.children[1]) if len(s.children) > 1 else None,
                                self.span(s))
                     for s in children if isinstance(s, Tree) and s.data in SOURCES)

    def i_parameter(self, t: Tree) -> ast.Parameter:
        rest = t.children[2:]
        default = self.expr(rest[0]) if rest and not (isinstance(rest[0], Tree)
                                                     and rest[0].data in SOURCES) else None
        return ast.Parameter(str(t.children[0]), self.type(t.children[1]), default,
                             self.sources(rest), self.span(t))

    def i_value(self, t: Tree) -> ast.Value:
        kids = list(t.children)
        name = str(kids.pop(0))
        typ = None
        if isinstance(kids[0], Tree) and kids[0].data in ("simple_type", "enum_type"):
            typ = self.type(kids.pop(0))
        return ast.Value(name, typ, self.expr(kids[0]), self.sources(kids[1:]), self.span(t))

    def _single(self, t: Tree, attrs: list[Tree], kind: str, what: str):
        found = [a for a in attrs if a.data == kind]
        for extra in found[1:]:
            self.diags.add("V020", f"{what} anges två gånger", self.span(extra),
                           hint="ta bort den ena")
        return found[0] if found else None

    def i_villkor(self, t: Tree) -> ast.Villkor:
        vid, title, attrs = str(t.children[0]), self.text(t.children[1]), t.children[2:]
        applies = self._single(t, attrs, "applies", "`gäller`")
        req = self._single(t, attrs, "requirement", "`krav`")
        due = self._single(t, attrs, "report_due", "`redovisas senast`")
        late = self._single(t, attrs, "late_rule", "`vid försening`")
        review = self._single(t, attrs, "review", "`beslut enligt`")
        subs = tuple(self.sub(a) for a in attrs if a.data == "subvillkor")
        return ast.Villkor(
            vid, title, str(applies.children[0]) if applies else None, self.sources(attrs), subs,
            self.expr(req.children[0]) if req else None,
            ast.ReportDue(self.date(due.children[0]), str(due.children[1]), str(due.children[2]),
                          self.span(due)) if due else None,
            self.verdict_text(late.children[0]) if late else None,
            self.review(review) if review else None, self.span(t),
            tuple(str(c) for c in applies.children[1:]) if applies else ())

    def review(self, t: Tree) -> ast.Review:
        days = int(str(t.children[1].children[0])) if len(t.children) > 1 else None
        return ast.Review(str(t.children[0]), days, self.span(t))

    def sub(self, t: Tree) -> ast.SubVillkor:
        attrs = t.children[2:]
        req = self._single(t, attrs, "requirement", "`krav`")
        return ast.SubVillkor(str(t.children[0]), self.text(t.children[1]), self.sources(attrs),
                              self.expr(req.children[0]) if req else None, self.span(t))

    def i_payment(self, t: Tree) -> ast.Payment:
        name, title, attrs = str(t.children[0]), self.text(t.children[1]), t.children[2:]
        vill = self._single(t, attrs, "pay_villkor", "`villkor`")
        req = self._single(t, attrs, "requirement", "`krav`")
        rules = [a for a in attrs if a.data in ("fixed", "per_member", "pot")]
        for extra in rules[1:]:
            self.diags.add("V021", "en utbetalning kan bara ha en beräkningsregel",
                           self.span(extra), hint="dela upp i två utbetalningar")
        cap_each = self._single(t, attrs, "cap_each", "`tak per mottagare`")
        cap_total = self._single(t, attrs, "cap_total", "`tak totalt`")
        rounding = self._single(t, attrs, "rounding", "`avrundning`")
        due = self._single(t, attrs, "due", "`betalas senast`")
        return ast.Payment(
            name, title, str(vill.children[0]) if vill else None, self.sources(attrs),
            self.expr(req.children[0]) if req else None,
            self.rule(rules[0]) if rules else None,
            self.expr(cap_each.children[0]) if cap_each else None,
            self.expr(cap_total.children[0]) if cap_total else None,
            self.rounding(rounding) if rounding else None,
            self.date(due.children[0]) if due else None, self.span(t),
            unconditional=any(a.data == "no_villkor" for a in attrs))

    def rule(self, t: Tree):
        if t.data == "fixed":
            return ast.Fixed(self.expr(t.children[0]), str(t.children[1]), self.span(t))
        if t.data == "per_member":
            return ast.PerMember(self.expr(t.children[0]), str(t.children[1]), self.span(t))
        return ast.Pot(self.expr(t.children[0]), str(t.children[1]), self.expr(t.children[2]),
                       self.span(t))

    def rounding(self, t: Tree) -> ast.Rounding:
        unit = " ".join(str(c) for c in t.children[0].children)
        mode = " ".join(str(c) for c in t.children[1].children)
        return ast.Rounding("krona" if unit == "hela kronor" else "öre", mode,
                            len(t.children) > 2, self.span(t))

    def i_total(self, t: Tree) -> ast.Total:
        r = self.rounding(Tree("rounding", t.children[:2], t.meta))
        return ast.Total(ast.Rounding(r.unit, r.mode, False, self.span(t)),
                         self.sources(t.children[2:]), self.span(t))

    def i_event(self, t: Tree) -> ast.Event:
        w = t.children[2]
        when: ast.OnDate | ast.InWeek | ast.DaysAfter
        if w.data == "on_date":
            when = ast.OnDate(self.date(w.children[0]), self.span(w))
        elif w.data == "in_week":
            when = ast.InWeek(int(str(w.children[0])), int(str(w.children[1])), self.span(w))
        else:
            when = ast.DaysAfter(int(str(w.children[0])), str(w.children[1]), self.span(w))
        return ast.Event(str(t.children[0]), self.text(t.children[1]), when,
                         self.sources(t.children[3:]), self.span(t))

    def i_check(self, t: Tree) -> ast.Check:
        tol = next((c for c in t.children[2:] if isinstance(c, Tree) and c.data == "tolerance"),
                   None)
        return ast.Check(self.text(t.children[0]), self.expr(t.children[1]),
                         self.expr(tol.children[0]) if tol else None,
                         self.sources(t.children[2:]), self.span(t))

    def i_amendment(self, t: Tree) -> ast.Amendment:
        kids = t.children
        items = tuple(self.item(c) for c in kids[3:] if c.data not in SOURCES)
        return ast.Amendment(str(kids[0]), self.text(kids[1]), self.date(kids[2]),
                             self.sources(kids[3:]), items, self.span(t))

    # -- expressions
    def verdict_text(self, t: Tree) -> str:
        return " ".join(str(c) for c in t.children)

    def expr(self, t: Tree | Token) -> ast.Expr:
        sp = self.span(t)
        if isinstance(t, Token):  # a lone NAME collapsed by `?atom`
            return ast.Name(str(t), sp)
        d, c = t.data, t.children
        if d in BINARY:
            return ast.Binary(BINARY[d], self.expr(c[0]), self.expr(c[1]), sp)
        if d == "compare":
            op = str(c[1])
            return ast.Compare(CMP.get(op, op), self.expr(c[0]), self.expr(c[2]), sp)
        if d in ("and_", "or_"):
            return ast.Logic("och" if d == "and_" else "eller", self.expr(c[0]), self.expr(c[1]),
                             sp)
        if d == "about":
            return ast.About(self.expr(c[0]), self.expr(c[1]), sp)
        if d == "not_":
            return ast.Not(self.expr(c[0]), sp)
        if d == "negate":
            return ast.Negate(self.expr(c[0]), sp)
        if d in ("is_yes", "is_no", "is_given"):
            return ast.Is(self.expr(c[0]), {"is_yes": "ja", "is_no": "nej",
                                            "is_given": "angiven"}[d], sp)
        if d == "number":
            if len(re.sub(r"\D", "", str(c[0]))) > MAX_DIGITS:
                self.diags.add("V014", f"talet har fler än {MAX_DIGITS} siffror", sp,
                               hint="skriv beloppet med en enhet, t.ex. `944 miljoner kronor`")
                return ast.Num(Fraction(0), None, sp)
            value = _number(c[0])
            if len(c) > 1:
                scale, unit = UNIT_SCALE[" ".join(str(x) for x in c[1].children)]
                return ast.Num(value * scale, unit, sp)
            return ast.Num(value, None, sp)
        if d == "date":
            return ast.DateLit(self.date(c[0]), sp)
        if d == "string":
            return ast.Str(self.text(c[0]), sp)
        if d in ("yes", "no"):
            return ast.Bool(d == "yes", sp)
        if d == "verdict":
            return ast.VerdictLit(self.verdict_text(t), sp)
        if d == "name":
            return ast.Name(str(c[0]), sp)
        if d == "column_ref":
            return ast.ColumnRef(str(c[0]), str(c[1]), sp)
        if d == "villkor_ref":
            return ast.VillkorRef(str(c[0]), sp)
        if d == "conditional":
            return ast.Conditional(self.expr(c[0]), self.expr(c[1]), self.expr(c[2]), sp)
        if d == "between":
            return ast.Between(self.expr(c[0]), self.date(c[1]), self.date(c[2]), sp)
        parts = {x.data: self.expr(x.children[0]) for x in c if isinstance(x, Tree)
                 and x.data in ("where", "among")}
        if d == "count":
            return ast.Count(str(c[0]), parts.get("where"), sp)
        if d == "total_of":
            return ast.TotalOf(str(c[0]), str(c[1]), parts.get("where"), sp)
        if d == "share_of":
            return ast.ShareOf(str(c[0]), parts["where"], parts.get("among"), sp)
        raise AssertionError(f"okänd regel {d}")  # grammar and builder out of step
