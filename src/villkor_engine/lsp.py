"""`villkor lsp`: a language server (pygls) for agreement files.

Diagnostics as you type (the checker's own, in Swedish), hover (type, value, källa), go to
definition, completion of keywords and names, and formatting through `villkor fmt`. LSP counts
columns in UTF-16 code units; the conversion is done here, at the edge.

The server never dies of what a client sends: a message larger than `MAX_MESSAGE` is read past
(never held in memory) and answered with an error if it was a request, and a request whose
parameters do not fit the protocol (a negative position, one past 2^31 - 1) gets an error
response rather than silence.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from typing import Any, BinaryIO, cast
from urllib.parse import unquote, urlparse

from lsprotocol import types as T
from pygls.exceptions import JsonRpcInvalidParams, JsonRpcInvalidRequest
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol

from . import __version__, api
from .diagnostics import Span
from .fmt import format_text
from .hover import KEYWORDS, Symbol, codepoint, describe, index, word_at
from .model.model import Model

MAX_MESSAGE = 16 * 1024 * 1024     # bytes of one JSON-RPC message body
MAX_HEADER = 64 * 1024              # bytes of one header line
OVERSIZED = "villkor/förStortMeddelande"
UINTEGER = 2 ** 31 - 1              # LSP's largest line or character


@dataclass
class _Rejected:
    """A request whose parameters could not be read: answered with an error, not dropped."""

    id: Any
    method: str
    message: str
    jsonrpc: str = "2.0"


class VillkorProtocol(LanguageServerProtocol):
    def structure_message(self, data: dict[str, Any]):
        try:
            return super().structure_message(data)
        except Exception:
            if isinstance(data, dict) and "jsonrpc" in data and "id" in data \
                    and isinstance(data.get("method"), str):
                return _Rejected(data["id"], data["method"], _bad_params(data))
            raise

    def handle_message(self, message):
        if isinstance(message, _Rejected):
            error = JsonRpcInvalidParams(message.message).to_response_error()
            self._send_response(message.id, error=error)
            return
        super().handle_message(message)


def _bad_params(data: dict[str, Any]) -> str:
    """Why a request's parameters were refused, in Swedish."""
    params = data.get("params")
    position = params.get("position") if isinstance(params, dict) else None
    if isinstance(position, dict):
        for key, name in (("line", "raden"), ("character", "tecknet")):
            value = position.get(key)
            if not isinstance(value, int) or isinstance(value, bool) \
                    or not 0 <= value <= UINTEGER:
                return (f"ogiltig position i `{data['method']}`: {name} ({key}) ska vara ett "
                        f"heltal från 0 till {UINTEGER}, inte {json.dumps(value)[:40]}")
    return f"ogiltiga parametrar i `{data['method']}`"


class BoundedReader:
    """stdin for pygls, with every message's size bounded.

    A `Content-Length` over `limit` is replaced by a small stand-in message: the body is read
    past in chunks (never kept), and the stand-in, handled like any request, answers the
    client's request id (found at the start or end of the body) with an error, or shows a
    message for a notification. Header lines are cut at `MAX_HEADER` bytes.
    """

    LENGTH = re.compile(rb"content-length:[ \t]*(\d+)[ \t]*\r?\n?", re.IGNORECASE)
    ID_HEAD = re.compile(rb'^\s*\{[^{}\[\]]*?"id"\s*:\s*(-?\d{1,18}|"(?:[^"\\]|\\.){0,200}")')
    ID_TAIL = re.compile(rb'"id"\s*:\s*(-?\d{1,18}|"(?:[^"\\]|\\.){0,200}")\s*\}\s*$')

    def __init__(self, raw: BinaryIO, limit: int = MAX_MESSAGE):
        self.raw, self.limit = raw, limit
        self.skip: int | None = None       # the claimed size of an oversized body

    def readline(self) -> bytes:
        line = self.raw.readline(MAX_HEADER)
        m = self.LENGTH.fullmatch(line)
        if m is not None:
            digits = m.group(1)
            size = int(digits) if len(digits) <= 20 else 10 ** 20
            if size > self.limit:
                self.skip = size
                return b"Content-Length: 1\r\n"
            return b"Content-Length: %d\r\n" % size
        return line

    def read(self, n: int) -> bytes:
        if self.skip is None:
            return self.raw.read(n)
        size, self.skip = self.skip, None
        head, tail, left = b"", b"", size
        while left > 0:
            chunk = self.raw.read(min(left, 1 << 20))
            if not chunk:
                break
            if len(head) < 4096:
                head += chunk[:4096 - len(head)]
            tail = (tail + chunk)[-4096:]
            left -= len(chunk)
        return self._stand_in(size, head, tail)

    def _stand_in(self, size: int, head: bytes, tail: bytes) -> bytes:
        m = self.ID_HEAD.search(head) or self.ID_TAIL.search(tail)
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": OVERSIZED,
                                   "params": {"storlek": size, "gräns": self.limit}}
        if m is not None:
            try:
                message["id"] = json.loads(m.group(1))
            except ValueError:
                pass
        return json.dumps(message).encode()


def _oversized_text(params) -> str:
    def get(key: str, default=None):
        if isinstance(params, dict):
            return params.get(key, default)
        return getattr(params, key, default)
    size, limit = get("storlek"), get("gräns", MAX_MESSAGE)
    return (f"villkor lsp: ett meddelande på {size} byte är större än gränsen "
            f"{limit // (1024 * 1024)} MiB och hoppades över")


class VillkorServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("villkor-lsp", __version__, protocol_cls=VillkorProtocol)
        self.models: dict[str, Model] = {}
        self.symbols: dict[str, dict[str, Symbol]] = {}


server = VillkorServer()


def _path(uri: str) -> str:
    parsed = urlparse(uri)
    return unquote(parsed.path) if parsed.scheme == "file" else uri


def _utf16(line: str, column: int) -> int:
    """1-based code-point column → 0-based UTF-16 offset."""
    return len(line[: max(0, column - 1)].encode("utf-16-le")) // 2


def _range(span: Span, lines: list[str]) -> T.Range:
    def pos(line: int, column: int) -> T.Position:
        text = lines[line - 1] if 0 < line <= len(lines) else ""
        return T.Position(line=max(0, line - 1), character=_utf16(text, column))
    if span.line <= 0:
        return T.Range(start=T.Position(line=0, character=0), end=T.Position(line=0, character=1))
    return T.Range(start=pos(span.line, span.column), end=pos(span.end_line, span.end_column))


def analyse(ls: VillkorServer, uri: str, text: str) -> list[T.Diagnostic]:
    """Check the document; keep the last good model and its symbols for hover and completion."""
    loaded = api.check(text, _path(uri))
    lines = text.splitlines()
    if loaded.model is not None:
        ls.models[uri] = loaded.model
        ls.symbols[uri] = index(loaded.model)
    out = []
    for d in loaded.diagnostics:
        span = d.span or Span.point(_path(uri))
        message = d.message + (f"\ntips: {d.hint}" if d.hint else "")
        out.append(T.Diagnostic(
            range=_range(span, lines), message=message, code=d.code, source="villkor",
            severity=T.DiagnosticSeverity.Error if d.is_error else T.DiagnosticSeverity.Warning))
    return out


@server.feature(T.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: VillkorServer, params: T.DidOpenTextDocumentParams) -> None:
    doc = params.text_document
    ls.text_document_publish_diagnostics(T.PublishDiagnosticsParams(
        uri=doc.uri, diagnostics=analyse(ls, doc.uri, doc.text), version=doc.version))


@server.feature(T.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: VillkorServer, params: T.DidChangeTextDocumentParams) -> None:
    doc = ls.workspace.get_text_document(params.text_document.uri)
    ls.text_document_publish_diagnostics(T.PublishDiagnosticsParams(
        uri=doc.uri, diagnostics=analyse(ls, doc.uri, doc.source), version=doc.version))


@server.feature(T.TEXT_DOCUMENT_HOVER)
def hover(ls: VillkorServer, params: T.HoverParams) -> T.Hover | None:
    doc = ls.workspace.get_text_document(params.text_document.uri)
    word = word_at(doc.source, params.position.line, params.position.character)
    model = ls.models.get(doc.uri)
    sym = ls.symbols.get(doc.uri, {}).get(word or "")
    if model is None or sym is None:
        return None
    return T.Hover(contents=T.MarkupContent(kind=T.MarkupKind.Markdown,
                                            value=describe(model, sym)))


@server.feature(T.TEXT_DOCUMENT_DEFINITION)
def definition(ls: VillkorServer, params: T.DefinitionParams) -> T.Location | None:
    doc = ls.workspace.get_text_document(params.text_document.uri)
    word = word_at(doc.source, params.position.line, params.position.character)
    sym = ls.symbols.get(doc.uri, {}).get(word or "")
    if sym is None:
        return None
    return T.Location(uri=doc.uri, range=_range(sym.span, doc.source.splitlines()))


@server.feature(T.TEXT_DOCUMENT_COMPLETION, T.CompletionOptions(trigger_characters=["."]))
def completion(ls: VillkorServer, params: T.CompletionParams) -> T.CompletionList:
    doc = ls.workspace.get_text_document(params.text_document.uri)
    lines = doc.source.splitlines()
    line = lines[params.position.line] if params.position.line < len(lines) else ""
    before = line[: codepoint(line, params.position.character)]
    syms = ls.symbols.get(doc.uri, {})
    table = re.search(r"(\w+)\.[\w.]*$", before)
    if table and table.group(1) in syms and syms[table.group(1)].kind == "tabell":
        prefix = table.group(1) + "."
        items = [T.CompletionItem(label=name[len(prefix):], kind=T.CompletionItemKind.Field,
                                  detail=s.detail)
                 for name, s in syms.items() if s.kind == "kolumn" and name.startswith(prefix)]
        return T.CompletionList(is_incomplete=False, items=items)
    kinds = {"värde": T.CompletionItemKind.Constant, "parameter": T.CompletionItemKind.Variable,
             "tabell": T.CompletionItemKind.Struct, "dokument": T.CompletionItemKind.Reference,
             "mottagargrupp": T.CompletionItemKind.Class}
    items = [T.CompletionItem(label=k, kind=T.CompletionItemKind.Keyword) for k in KEYWORDS]
    items += [T.CompletionItem(label=s.name, kind=kinds[s.kind], detail=f"{s.kind}: {s.detail}")
              for s in syms.values() if s.kind in kinds]
    return T.CompletionList(is_incomplete=False, items=items)


@server.feature(T.TEXT_DOCUMENT_FORMATTING)
def formatting(ls: VillkorServer, params: T.DocumentFormattingParams) -> list[T.TextEdit]:
    doc = ls.workspace.get_text_document(params.text_document.uri)
    formatted, _ = format_text(doc.source, _path(doc.uri))
    if formatted is None or formatted == doc.source:
        return []
    end = T.Position(line=len(doc.source.splitlines()) + 1, character=0)
    return [T.TextEdit(range=T.Range(start=T.Position(line=0, character=0), end=end),
                       new_text=formatted)]


@server.feature(OVERSIZED)
def oversized(ls: VillkorServer, params) -> None:
    """The stand-in for a message over MAX_MESSAGE (see BoundedReader): a request gets an
    error response, a notification a message shown to the user."""
    text = _oversized_text(params)
    if ls.protocol._ctx_msg_id.get(None) is not None:   # a request: answered with the error
        raise JsonRpcInvalidRequest(text)
    ls.window_show_message(T.ShowMessageParams(type=T.MessageType.Error, message=text))


def serve() -> None:
    # pygls reads its stdin with readline/read, which BoundedReader provides
    server.start_io(cast("BinaryIO", BoundedReader(sys.stdin.buffer)))
