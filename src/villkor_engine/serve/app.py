"""The web service behind `villkor serve`: check, run, explain, report and diff over HTTP, and
the workbench page (`GET /`, static files in `static/`, no build step).

Every endpoint calls `villkor_engine.api`; nothing here evaluates anything itself.

- Uploaded files live in a temporary folder of their own request and nowhere else; the folder is
  removed when the request is answered (or, if a computation outlived its time limit, when the
  computation ends). Requests share no state but an immutable cache of checked texts.
- A part's file name is the table's `fil`: it must be a plain name inside the data folder
  (`io.paths.name_problem`); `../x.csv` or `/etc/x` is refused with 400.
- Bounded: the request body (`Limits.body`, 413), the data rows of one request
  (`Limits.rows`, 413), the time of one computation (`Limits.seconds`, 408), the number of
  computations at once (`Limits.workers`; the rest wait, within their time).
- Every error is JSON in Swedish, `{"fel": [{"kod", "meddelande", "tips"}]}`, never a traceback.

Bundled example data: the agreements in `agreements/` with their data in `examples/<name>/`,
read-only, from (in this order) the folder given to `create_app(examples=…)` /
`villkor serve --exempel DIR`, a copy packaged in the wheel (`serve/exempel/`, when the
project's build force-includes it), or the source checkout the package runs from. With none,
the workbench offers upload only.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import mimetypes
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal, cast, overload

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import ClientDisconnect

from .. import __version__, api
from ..eval.values import money_text
from ..io.paths import name_problem, shown
from ..report import CSP
from ..syntax.parse import MAX_FILE_BYTES

STATIC = Path(__file__).parent / "static"
DATA_SUFFIXES = (".csv", ".xlsx", ".parquet")


@dataclass(frozen=True)
class Limits:
    body: int = 20 * 1024 * 1024     # bytes of one request
    rows: int = 200_000              # data rows of one request, all files together
    seconds: float = 30.0            # one computation, waiting for a worker included
    workers: int = 4                 # computations at once
    files: int = 100                 # data parts of one request


class Problem(Exception):
    """An answer that is not a result: HTTP status and Swedish diagnostics."""

    def __init__(self, status: int, code: str, message: str, hint: str | None = None,
                 diagnostics: list[dict] | None = None, extra: dict | None = None):
        super().__init__(message)
        self.status = status
        self.body = {"fel": diagnostics if diagnostics is not None else
                     [{"kod": code, "meddelande": message, "tips": hint}]}
        if extra:
            self.body.update(extra)


class _TooLarge(Exception):
    pass


def _error(status: int, code: str, message: str, hint: str | None = None) -> JSONResponse:
    return JSONResponse({"fel": [{"kod": code, "meddelande": message, "tips": hint}]},
                        status_code=status)


def _too_large(limit: int) -> JSONResponse:
    return _error(413, "V320", f"begäran är för stor (högst {limit // (1024 * 1024)} MB)",
                  "skicka mindre filer, eller kör `villkor run` på den egna datorn")


class BodyLimit:
    """ASGI middleware: a body over `limit` bytes is 413, by its Content-Length before it is
    read, or when the bytes received pass the limit."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for key, value in scope.get("headers", ()):
            if key == b"content-length":
                try:
                    size = int(value)
                except ValueError:
                    size = 0
                if size > self.limit:
                    await _too_large(self.limit)(scope, receive, send)
                    return
        seen = 0
        started = False

        async def limited():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge()
            return message

        async def sending(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, sending)
        except _TooLarge:
            if not started:
                await _too_large(self.limit)(scope, receive, send)


class _Cache:
    """The last checked texts (immutable `api.Checked`), shared by check and hover."""

    def __init__(self, size: int = 64):
        self.items: OrderedDict[tuple[str, str], api.Checked] = OrderedDict()
        self.size, self.lock = size, threading.Lock()

    def get(self, text: str, name: str) -> api.Checked:
        key = (hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest(), name)
        with self.lock:
            found = self.items.get(key)
            if found is not None:
                self.items.move_to_end(key)
                return found
        checked = api.check(text, name)
        with self.lock:
            self.items[key] = checked
            while len(self.items) > self.size:
                self.items.popitem(last=False)
        return checked


def find_examples() -> Path | None:
    """A folder holding `agreements/` and `examples/`: the wheel's copy, else the checkout."""
    packaged = Path(__file__).parent / "exempel"
    root = Path(__file__).resolve().parents[3]
    for place in (packaged, root):
        if (place / "agreements").is_dir() and (place / "examples").is_dir():
            return place
    return None


def _examples(root: Path | None) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    if root is None:
        return found
    for agreement in sorted((root / "agreements").glob("*.villkor")):
        data = root / "examples" / agreement.stem
        if data.is_dir():
            found[agreement.stem] = {"agreement": agreement, "data": data}
    return found


# ---- the request's inputs ----------------------------------------------------------------------

@dataclass
class Inputs:
    text: str
    name: str
    data_dir: Path
    params: list[str]
    per: date | None
    fields: dict[str, str]
    saved: str | None = None          # the saved version, for /api/diff


def _part_name(raw: str | None, what: str) -> str:
    """A part's file name as a plain name inside the data folder, or 400."""
    name = raw or ""
    problem = name_problem(name)
    parts = name.split("/")
    if problem is None and any(p in ("", ".") for p in parts):
        problem = "namnet har en tom del eller `.`"
    if problem is None and len(name) > 255:
        problem = "namnet är för långt"
    if problem is not None:
        raise Problem(400, "V214", f"{what} `{shown(name)[:200]}` är inget filnamn i "
                      f"datamappen: {problem}", "ge delen filens namn så som överenskommelsens "
                      "`fil \"…\"` skriver det, t.ex. `befolkning.csv`")
    return name


def _decode(raw: bytes, what: str) -> str:
    if len(raw) > MAX_FILE_BYTES:
        raise Problem(413, "V002", f"{what} är för stor ({len(raw)} byte; högst "
                      f"{MAX_FILE_BYTES})", "dela upp överenskommelsen")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Problem(400, "V001", f"{what} är inte UTF-8-text",
                      "spara filen som UTF-8") from None
    return text.removeprefix("\ufeff")


def _count_rows(path: Path) -> int:
    """Data rows in an uploaded file (lines of a CSV; rows of a sheet or Parquet file)."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            return pq.ParquetFile(path).metadata.num_rows
        if suffix == ".xlsx":
            from openpyxl import load_workbook

            wb = load_workbook(path, read_only=True)
            try:
                return max(0, (wb.worksheets[0].max_row or 0) - 1) if wb.worksheets else 0
            finally:
                wb.close()
    except Exception:   # noqa: BLE001 - a damaged file: the run says what is wrong with it
        return 0
    with open(path, "rb") as f:
        return sum(block.count(b"\n") for block in iter(lambda: f.read(1 << 20), b""))


async def _form(request: Request, limits: Limits):
    try:
        return await request.form(max_files=limits.files + 2, max_fields=200,
                                  max_part_size=MAX_FILE_BYTES + 1)
    except _TooLarge:
        raise
    except MultiPartException as exc:
        text = str(getattr(exc, "message", exc))
        if "Too many files" in text:
            raise Problem(413, "V320", f"för många filer (högst {limits.files})") from None
        if "Part exceeded" in text:
            raise Problem(413, "V002", f"ett fält är för stort (högst {MAX_FILE_BYTES} byte)",
                          "skicka överenskommelsen som fil") from None
        raise Problem(400, "V321", "formuläret kunde inte läsas (multipart/form-data)",
                      "skicka överenskommelsen och datafilerna som multipart/form-data") from None
    except (AssertionError, KeyError, ValueError):
        raise Problem(400, "V321", "begäran är inget formulär (multipart/form-data)",
                      "skicka överenskommelsen och datafilerna som multipart/form-data") from None


@overload
async def _agreement(form, key: str, what: str,
                     required: Literal[True] = True) -> tuple[str, str]: ...
@overload
async def _agreement(form, key: str, what: str, required: bool) -> tuple[str | None, str]: ...
async def _agreement(form, key: str, what: str, required: bool = True) -> tuple[str | None, str]:
    values = form.getlist(key)
    if not values:
        if required:
            raise Problem(400, "V322", f"fältet `{key}` ({what}) saknas",
                          f"skicka {what} i fältet `{key}`, som fil eller text")
        return None, "överenskommelse.villkor"
    if len(values) > 1:
        raise Problem(400, "V322", f"fältet `{key}` finns {len(values)} gånger",
                      "skicka en överenskommelse")
    value = values[0]
    if isinstance(value, str):
        return _decode(value.encode("utf-8", "surrogatepass"), what), "överenskommelse.villkor"
    name = Path(value.filename or "överenskommelse.villkor").name or "överenskommelse.villkor"
    return _decode(await value.read(), what), name


async def _inputs(request: Request, tmp: Path, limits: Limits,
                  examples: dict[str, dict[str, Any]], diff: bool = False) -> Inputs:
    form = await _form(request, limits)
    try:
        text, name = await _agreement(form, "overenskommelse", "överenskommelsen")
        saved = (await _agreement(form, "sparad", "den sparade versionen"))[0] if diff else None
        fields = {k: v for k, v in form.multi_items() if isinstance(v, str)
                  and k not in ("overenskommelse", "sparad", "param")}
        params = [v for v in form.getlist("param") if isinstance(v, str)]
        per = None
        if fields.get("per", "").strip():
            try:
                per = date.fromisoformat(fields["per"].strip())
            except ValueError:
                raise Problem(400, "V300", f"`per` = `{fields['per'][:40]}` är inget datum",
                              "skriv ÅÅÅÅ-MM-DD") from None
        uploads = [v for v in form.getlist("data") if not isinstance(v, str)]
        if len(uploads) != len(form.getlist("data")):
            raise Problem(400, "V214", "en `data`-del har inget filnamn",
                          "skicka varje datafil som fil, med tabellens `fil` som filnamn")
        example = fields.get("exempel", "").strip()
        if example:
            if uploads:
                raise Problem(400, "V323", "skicka antingen datafiler eller `exempel`, inte båda")
            if example not in examples:
                raise Problem(400, "V323", f"inget exempel `{example[:80]}`",
                              "exemplen är: " + (", ".join(examples) or "inga"))
            return Inputs(text, name, examples[example]["data"], params, per, fields, saved)
        if len(uploads) > limits.files:
            raise Problem(413, "V320", f"för många filer (högst {limits.files})")
        data = tmp / "data"
        data.mkdir()
        seen: set[str] = set()
        rows = 0
        for part in uploads:
            fname = _part_name(part.filename, "datafilen")
            if fname.lower() in seen:
                raise Problem(400, "V214", f"datafilen `{fname}` skickades två gånger")
            seen.add(fname.lower())
            target = data / fname
            if not target.resolve().is_relative_to(data.resolve()):
                raise Problem(400, "V214", f"datafilen `{shown(fname)}` ska ligga i datamappen")
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "wb") as f:
                while chunk := await part.read(1 << 20):
                    f.write(chunk)
            rows += _count_rows(target)
            if rows > limits.rows:
                raise Problem(413, "V324", f"för många rader i indata (högst {limits.rows} "
                              "per begäran)", "kör `villkor run` på den egna datorn för "
                              "stora indata")
        return Inputs(text, name, data, params, per, fields, saved)
    finally:
        await form.close()


# ---- JSON forms of results ---------------------------------------------------------------------

def _money(x: Fraction | None) -> str | None:
    return money_text(x) if x is not None else None


def _diag_list(diags) -> list[dict]:
    return [api.diagnostic_json(d) for d in diags]


def _run_json(outcome: api.RunOutcome, with_explanations: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "version": outcome.version, "motor": outcome.engine_used,
        "rader": [r.model_dump(mode="json") for r in outcome.rows],
        "potter": [p.model_dump(mode="json") for p in outcome.pots],
        "fel": [e.model_dump(mode="json") for e in outcome.errors],
        "antal_fel": outcome.error_count,
        "fakturor": [x.model_dump(mode="json") for x in outcome.invoices],
        "varningar": _diag_list(d for d in outcome.diagnostics if not d.is_error),
        "villkor_version": __version__,
    }
    if with_explanations and outcome.result is not None:
        body["forklaringar"] = api.explanations(outcome)
    return body


def _diff_json(d) -> dict[str, Any]:
    def row(r) -> dict[str, Any]:
        return {"mottagare": r.code, "namn": r.name, "villkor": r.villkor,
                "utfall_fore": r.verdict_old, "utfall_efter": r.verdict_new,
                "belopp_fore": _money(r.amount_old), "belopp_efter": _money(r.amount_new),
                "skillnad": _money(r.difference), "orsak": r.reason, "andrad": r.changed,
                "bara": r.only}

    def total(t) -> dict[str, Any]:
        return {"utbetalning": t.payment, "titel": t.title, "villkor": t.villkor,
                "utbetalt_fore": _money(t.paid_old), "utbetalt_efter": _money(t.paid_new),
                "avrundning_fore": _money(t.rounding_old),
                "avrundning_efter": _money(t.rounding_new), "skillnad": _money(t.difference),
                "orsak": t.reason, "anmarkning": t.note, "preliminar": t.preliminary}

    return {"titel": d.title, "fore": d.old_label, "efter": d.new_label,
            "version_fore": d.old_version, "version_efter": d.new_version,
            "summor": [row(r) for r in d.sums], "rader": [row(r) for r in d.changed_rows],
            "oforandrade": d.unchanged_count, "utbetalningar": [total(t) for t in d.totals],
            "totalt": total(d.total), "varningar": _diag_list(d.warnings)}


def _stopped(outcome: api.RunOutcome) -> Problem:
    """A run that gave no result: 422 for the agreement and the data, 400 for usage."""
    status = 400 if outcome.stage == "användning" else 422
    if outcome.stage == "skrivning":
        status = 500
    return Problem(status, "", "", diagnostics=_diag_list(outcome.diagnostics),
                   extra={"steg": outcome.stage})


def _attachment(data: bytes, filename: str, media: str) -> Response:
    return Response(data, media_type=media, headers={
        "Content-Disposition": f"attachment; filename=\"{filename}\"",
        "X-Content-Type-Options": "nosniff"})


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGE_CSP = CSP          # the report's own policy: the pages it serves carry no script
WORKBENCH_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                 "connect-src 'self'; frame-src blob:; base-uri 'none'; form-action 'none'; "
                 "object-src 'none'")


def _multipart_doc(description: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    props: dict[str, Any] = {
        "overenskommelse": {"type": "string", "format": "binary",
                            "description": "överenskommelsen (fil eller text)"},
        "data": {"type": "array", "items": {"type": "string", "format": "binary"},
                 "description": "en del per datafil; delens filnamn är tabellens `fil`"},
        "exempel": {"type": "string", "description": "i stället för data: ett medföljande "
                    "exempels namn (GET /api/exempel)"},
        "per": {"type": "string", "format": "date", "description": "version i kraft detta datum"},
        "param": {"type": "array", "items": {"type": "string"}, "description": "NAMN=VÄRDE"},
    }
    props.update(extra or {})
    return {"requestBody": {"required": True, "description": description, "content": {
        "multipart/form-data": {"schema": {"type": "object", "properties": props,
                                           "required": ["overenskommelse"]}}}}}


ERRORS_DOC: dict[int | str, dict[str, Any]] = {
    "400": {"description": "fel i begäran (t.ex. ett delnamn med sökväg), JSON `{\"fel\": […]}`"},
    "408": {"description": "beräkningen tog för lång tid"},
    "413": {"description": "begäran, filerna eller raderna är för många eller för stora"},
    "422": {"description": "överenskommelsen eller indata har fel: diagnoserna i `fel`"},
}


# ---- the app -----------------------------------------------------------------------------------

def create_app(examples: Path | None = None, limits: Limits | None = None) -> FastAPI:
    """The ASGI app. `examples`: a folder with `agreements/` and `examples/` (default: the
    packaged copy or the source checkout, see `find_examples`)."""
    limits = limits or Limits()
    bundled = _examples(examples if examples is not None else find_examples())
    cache = _Cache()
    pool = ThreadPoolExecutor(max_workers=limits.workers, thread_name_prefix="villkor")
    app = FastAPI(title="villkor", version=__version__, docs_url="/api/dokumentation",
                  redoc_url=None, description="Villkor och ersättningar i överenskommelser, "
                  "prövade och beräknade exakt: samma motor som kommandot `villkor`.")
    app.add_middleware(BodyLimit, limit=limits.body)
    app.state.limits = limits

    @app.exception_handler(Problem)
    async def problem(request: Request, exc: Problem):
        return JSONResponse(exc.body, status_code=exc.status)

    @app.exception_handler(_TooLarge)
    async def too_large(request: Request, exc: _TooLarge):
        return _too_large(limits.body)

    @app.exception_handler(ClientDisconnect)
    async def disconnected(request: Request, exc: ClientDisconnect):
        return _error(400, "V321", "anslutningen bröts innan begäran var läst")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        messages = {404: ("V325", "sidan finns inte"),
                    405: ("V325", f"metoden {request.method} stöds inte här")}
        code, message = messages.get(exc.status_code, ("V325", f"HTTP-fel {exc.status_code}"))
        return _error(exc.status_code, code, message, "se /openapi.json för tjänstens adresser")

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception):
        return _error(500, "V319", f"internt fel i villkor ({type(exc).__name__})",
                      "det här är ett fel i programmet, inte i dina filer; skicka begäran till "
                      "utvecklarna")

    async def compute(fn: Callable[[], Any], tmp: tempfile.TemporaryDirectory | None = None):
        """`fn()` on a worker thread within the time limit (408); the request's folder is
        removed when the computation ends, even after a timeout."""
        future = pool.submit(fn)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), limits.seconds)
        except asyncio.TimeoutError:
            raise Problem(408, "V326", f"beräkningen tog längre tid än {limits.seconds:g} s och "
                          "avbröts", "kör `villkor run` på den egna datorn för stora indata"
                          ) from None
        finally:
            if tmp is not None:
                if future.done():
                    tmp.cleanup()
                else:
                    future.add_done_callback(lambda _f: tmp.cleanup())

    async def with_inputs(request: Request, work: Callable[[Inputs, Path], Any],
                          diff: bool = False):
        tmp = tempfile.TemporaryDirectory(prefix="villkor-serve-")
        handed_over = False
        try:
            inputs = await _inputs(request, Path(tmp.name), limits, bundled, diff)
            handed_over = True
            return await compute(lambda: work(inputs, Path(tmp.name)), tmp)
        finally:
            if not handed_over:
                tmp.cleanup()

    def run_for(inputs: Inputs, out: Path | None = None) -> api.RunOutcome:
        outcome = api.run(inputs.text, inputs.data_dir, out, inputs.params, inputs.per,
                          engine=_engine(inputs.fields), name=inputs.name,
                          keep_rows=True)
        if not outcome.ok:
            raise _stopped(outcome)
        return outcome

    def reference_run(inputs: Inputs) -> api.RunOutcome:
        """A run whose explanations a report or an explanation reads: the reference
        evaluator's (the column engine keeps none; was a 500 with `motor=auto`/`kolumn`)."""
        outcome = run_for(inputs)
        if outcome.result is None:
            raise Problem(400, "V300", "rapporten och förklaringarna kräver referensmotorn "
                          f"(körningen gick i `{outcome.engine_used}`)",
                          "skriv motor=referens (eller utelämna fältet `motor`)")
        return outcome

    def _engine(fields: dict[str, str]) -> api.Engine:
        engine = fields.get("motor", "referens").strip() or "referens"
        if engine not in ("auto", "referens", "kolumn"):
            raise Problem(400, "V300", f"okänd motor `{engine[:40]}`",
                          "motorn är auto, referens eller kolumn")
        return cast(api.Engine, engine)   # one of the three, tested just above

    # -- pages ---------------------------------------------------------------------------------

    @app.get("/", include_in_schema=False)
    async def workbench():
        return _static("index.html")

    @app.get("/static/{name}", include_in_schema=False)
    async def static(name: str):
        return _static(name)

    def _static(name: str) -> Response:
        path = STATIC / name
        if "/" in name or name.startswith(".") or not path.is_file():
            raise StarletteHTTPException(404)
        media = mimetypes.guess_type(name)[0] or "application/octet-stream"
        if name.endswith(".js"):
            media = "text/javascript"
        return Response(path.read_bytes(), media_type=media + ("; charset=utf-8" if
                        media.startswith("text/") else ""), headers={
                        "Content-Security-Policy": WORKBENCH_CSP,
                        "X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache",
                        "Referrer-Policy": "no-referrer"})

    # -- API -----------------------------------------------------------------------------------

    @app.post("/api/check", tags=["api"], summary="Kontrollera en överenskommelse",
              openapi_extra={"requestBody": {"required": True, "content": {
                  "text/plain": {"schema": {"type": "string"}}}}},
              responses={200: {"description": "diagnoserna som `villkor check --format json` "
                               "(status 200 med eller utan fel)"}})
    async def check_endpoint(request: Request, namn: str = "överenskommelse.villkor"):
        """Kroppen är överenskommelsens text (UTF-8). Svaret: `fil`, `ok` och `diagnoser`
        (kod, allvarlighet, meddelande, tips, fil, rad, kolumn, slutrad, slutkolumn)."""
        text = _decode(await request.body(), "överenskommelsen")
        name = Path(namn).name or "överenskommelse.villkor"
        checked = await compute(lambda: cache.get(text, name))
        return checked.json()

    @app.post("/api/hover", tags=["api"], summary="Typ, värde och källa för ett namn",
              openapi_extra={"requestBody": {"required": True, "content": {
                  "application/json": {"schema": {"type": "object", "properties": {
                      "text": {"type": "string"}, "rad": {"type": "integer",
                                                          "description": "0-baserad"},
                      "tecken": {"type": "integer",
                                 "description": "0-baserad, i UTF-16-enheter (som LSP)"}}}}}}})
    async def hover_endpoint(request: Request):
        """Samma svar som språkserverns hover: `{"namn", "typ", "text"}` (markdown), eller
        `null` där inget namn står."""
        try:
            body = json.loads(await request.body())
            text, line, char = body["text"], int(body["rad"]), int(body["tecken"])
            if not isinstance(text, str) or not 0 <= line < 2 ** 31 or not 0 <= char < 2 ** 31:
                raise ValueError
        except (ValueError, KeyError, TypeError):
            raise Problem(400, "V300", "hover kräver JSON med `text`, `rad` och `tecken`",
                          "rad och tecken räknas från 0") from None
        if len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
            raise Problem(413, "V002", f"överenskommelsen är för stor (högst {MAX_FILE_BYTES} "
                          "byte)")
        return await compute(lambda: _hover(cache.get(text, "överenskommelse.villkor"), text,
                                            line, char))

    @app.get("/api/nyckelord", tags=["api"], summary="Språkets nyckelord (för färgläggning)")
    async def keywords():
        from ..hover import KEYWORDS

        return KEYWORDS

    @app.get("/api/exempel", tags=["api"], summary="Medföljande exempel")
    async def example_list():
        return [{"namn": k, "filer": sorted(p.name for p in v["data"].iterdir()
                                            if p.suffix.lower() in DATA_SUFFIXES)}
                for k, v in bundled.items()]

    @app.get("/api/exempel/{namn}", tags=["api"], summary="Ett exempels överenskommelse")
    async def example(namn: str):
        if namn not in bundled:
            raise Problem(404, "V323", f"inget exempel `{namn[:80]}`",
                          "exemplen är: " + (", ".join(bundled) or "inga"))
        path = bundled[namn]["agreement"]
        return {"namn": namn, "fil": path.name, "text": path.read_text(encoding="utf-8")}

    @app.post("/api/run", tags=["api"], summary="Pröva villkoren och beräkna utbetalningarna",
              openapi_extra=_multipart_doc("överenskommelse och indata", {
                  "motor": {"type": "string", "enum": ["referens", "auto", "kolumn"]},
                  "format": {"type": "string", "enum": ["json", "csv", "xlsx", "parquet"],
                             "description": "json (standard) eller resultatfilen att ladda ned"},
                  "forklaringar": {"type": "string", "enum": ["ja", "nej"],
                                   "description": "ja: varje rads förklaring i svaret"}}),
              responses={200: {"description": "`rader` (resultatfilens kolumner), `potter`, "
                               "`fel` (felrader), `version`"}, **ERRORS_DOC})
    async def run_endpoint(request: Request):
        """Som `villkor run`: resultatraderna med resultatfilens kolumner (belopp som exakt
        decimaltext), potterna med avrundningsdifferens, felrader och versionen i kraft."""
        def work(inputs: Inputs, tmp: Path):
            fmt = inputs.fields.get("format", "json").strip() or "json"
            if fmt not in ("json", "csv", "xlsx", "parquet"):
                raise Problem(400, "V300", f"okänt format `{fmt[:40]}`",
                              "formaten är json, csv, xlsx och parquet")
            if fmt == "json":
                outcome = run_for(inputs)
                return _run_json(outcome, inputs.fields.get("forklaringar") == "ja")
            out = tmp / "ut" / f"utfall.{fmt}"
            run_for(inputs, out)
            media = {"csv": "text/csv; charset=utf-8", "xlsx": XLSX,
                     "parquet": "application/vnd.apache.parquet"}[fmt]
            return _attachment(out.read_bytes(), out.name, media)

        return await with_inputs(request, work)

    @app.post("/api/explain", tags=["api"], summary="Förklara en mottagares utfall",
              openapi_extra=_multipart_doc("överenskommelse, indata och mottagare", {
                  "mottagare": {"type": "string"}, "villkor": {"type": "string"},
                  "format": {"type": "string", "enum": ["text", "html"]}}),
              responses=ERRORS_DOC)
    async def explain_endpoint(request: Request):
        """Som `villkor explain`: `{"forklaring": text}`, eller en HTML-sida (`format=html`)."""
        def work(inputs: Inputs, tmp: Path):
            who = inputs.fields.get("mottagare", "").strip()
            if not who:
                raise Problem(400, "V322", "fältet `mottagare` saknas", "t.ex. mottagare=09")
            vid = inputs.fields.get("villkor", "").strip() or None
            outcome = reference_run(inputs)
            problem = api.explain_problem(outcome, who, vid)
            if problem is not None:
                raise Problem(404, problem.code, problem.message, problem.hint)
            if inputs.fields.get("format") == "html":
                return Response(api.explain_html(outcome, who, vid),
                                media_type="text/html; charset=utf-8",
                                headers={"Content-Security-Policy": PAGE_CSP})
            return {"forklaring": api.explain(outcome, who, vid)}

        return await with_inputs(request, work)

    @app.post("/api/report", tags=["api"], summary="Rapport som Bilaga 2 (HTML eller Excel)",
              openapi_extra=_multipart_doc("överenskommelse och indata", {
                  "format": {"type": "string", "enum": ["html", "xlsx"]}}),
              responses=ERRORS_DOC)
    async def report_endpoint(request: Request):
        """Som `villkor report`: HTML-rapporten (standard) eller Excel-boken."""
        def work(inputs: Inputs, tmp: Path):
            fmt = inputs.fields.get("format", "html").strip() or "html"
            outcome = reference_run(inputs)
            if fmt == "xlsx":
                path = tmp / "rapport.xlsx"
                api.report_xlsx(outcome, path)
                return _attachment(path.read_bytes(), "rapport.xlsx", XLSX)
            return Response(api.report_html(outcome), media_type="text/html; charset=utf-8",
                            headers={"Content-Security-Policy": PAGE_CSP,
                                     "Content-Disposition": "inline; filename=\"rapport.html\""})

        return await with_inputs(request, work)

    @app.post("/api/diff", tags=["api"], summary="Jämför med sparad version",
              openapi_extra=_multipart_doc("den ändrade och den sparade överenskommelsen, indata",
                                           {"sparad": {"type": "string", "format": "binary"},
                                            "format": {"type": "string",
                                                       "enum": ["json", "html", "xlsx"]}}),
              responses=ERRORS_DOC)
    async def diff_endpoint(request: Request):
        """Båda versionerna körda på samma data: pengaskillnaden per mottagare (`summor`),
        ändrade rader och summor per utbetalning. `sparad` är före, `overenskommelse` efter."""
        def work(inputs: Inputs, tmp: Path):
            assert inputs.saved is not None   # _inputs(diff=True) requires `sparad`
            found = api.diff(inputs.saved, inputs.text, inputs.data_dir, inputs.params,
                             inputs.per, inputs.per, old_name="sparad.villkor",
                             new_name=inputs.name)
            if isinstance(found, tuple):
                raise Problem(422, "", "", diagnostics=_diag_list(found))
            fmt = inputs.fields.get("format", "json").strip() or "json"
            from .. import diff as diffing

            if fmt == "html":
                return Response(diffing.render_html(found), media_type="text/html; "
                                "charset=utf-8", headers={"Content-Security-Policy": PAGE_CSP})
            if fmt == "xlsx":
                path = tmp / "jamforelse.xlsx"
                diffing.write_xlsx(found, path)
                return _attachment(path.read_bytes(), "jamforelse.xlsx", XLSX)
            return _diff_json(found)

        return await with_inputs(request, work, diff=True)

    @app.get("/api/version", tags=["api"], summary="Programmets version")
    async def version():
        return {"villkor": __version__}

    return app


def _hover(checked: api.Checked, text: str, line: int, char: int) -> dict[str, str] | None:
    """The language server's hover (hover.py `index`, `describe`), for a text and a position."""
    if checked.model is None:
        return None
    from ..hover import describe, index, word_at

    word = word_at(text, line, char)
    symbol = index(checked.model).get(word or "")
    if symbol is None:
        return None
    return {"namn": symbol.name, "typ": symbol.kind, "text": describe(checked.model, symbol)}


def main(host: str = "127.0.0.1", port: int = 8000, examples: Path | None = None) -> None:
    """Serve until interrupted (what `villkor serve` runs)."""
    import uvicorn

    uvicorn.run(create_app(examples), host=host, port=port, log_level="warning",
                server_header=False)


__all__ = ["Limits", "create_app", "find_examples", "main"]
