// villkor arbetsbänk: the editor, live diagnostics, hover, run, explanations, pots, diff and
// downloads. Plain JavaScript, no build step, no library; it talks to /api/* only.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { keywords: new Set(), saved: null, name: "överenskommelse.villkor",
                diagnostics: [], explanations: {}, checkTimer: null, hoverTimer: null,
                checkSeq: 0, charWidth: 7.8, lineHeight: 19, pad: 8 };

// ---- helpers ---------------------------------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v; else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

function escapeHtml(s) {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

// A Swedish amount from the API's exact decimal text: "1386955" → "1 386 955 kr".
function money(text) {
  if (text === null || text === undefined || text === "") return "–";
  let s = String(text), sign = "";
  if (s.startsWith("-")) { sign = "−"; s = s.slice(1); }
  let [whole, frac] = s.split(".");
  whole = whole.replace(/\B(?=(\d{3})+(?!\d))/g, " ");
  if (frac !== undefined) {
    frac = frac.replace(/0+$/, "");
    if (frac.length === 1) frac += "0";
  }
  return `${sign}${whole}${frac ? "," + frac : ""} kr`;
}

const VERDICT_CLASS = { "uppfyllt": "uppfyllt", "ej uppfyllt": "ej-uppfyllt",
                        "underlag saknas": "underlag-saknas", "bedömning krävs": "bedomning-kravs" };

// The report's anchor of a row: report.py `_anchor` (ASCII letters and digits kept, every
// other character `_` and the hex of its UTF-8 bytes).
function idPart(text) {
  const enc = new TextEncoder();
  let out = "";
  for (const ch of text) {
    if (/^[A-Za-z0-9]$/.test(ch)) out += ch;
    else for (const b of enc.encode(ch)) out += "_" + b.toString(16).padStart(2, "0");
  }
  return out;
}
const anchor = (code, villkor) => `f-${idPart(code)}-${idPart(villkor)}`;

async function api(path, options) {
  const response = await fetch(path, options);
  const type = response.headers.get("content-type") || "";
  const body = type.includes("application/json") ? await response.json() : await response.blob();
  return { status: response.status, body, response };
}

function problems(body) {
  if (!body || !Array.isArray(body.fel)) return [el("li", { text: "okänt fel från tjänsten" })];
  return body.fel.map((d) => {
    const where = d.rad ? `rad ${d.rad}:${d.kolumn}: ` : "";
    const item = el("li", { class: d.allvarlighet === "varning" ? "varning" : "fel",
                            text: `${where}${d.allvarlighet || "fel"}[${d.kod}]: ${d.meddelande}` });
    if (d.tips) item.append(el("span", { class: "tips", text: ` – tips: ${d.tips}` }));
    return item;
  });
}

// ---- the editor: colouring and squiggles -----------------------------------------------------

const TOKEN = /(#[^\n]*)|("(?:[^"\\\n]|\\.)*"?)|(\d{4}-\d{2}-\d{2})|(\d+(?:[ \u00a0]\d{3})*(?:[.,]\d+)?)|([\p{L}_][\p{L}\p{N}_]*)|([<>=!]=?|[+\-*/:(),.])/gu;

function colour(text) {
  let html = "", last = 0;
  for (const m of text.matchAll(TOKEN)) {
    html += escapeHtml(text.slice(last, m.index));
    const [all, comment, string, day, number, word] = m;
    let cls = "o";
    if (comment) cls = "c"; else if (string) cls = "s"; else if (day) cls = "d";
    else if (number) cls = "n"; else if (word) cls = state.keywords.has(word) ? "k" : "";
    html += cls ? `<span class="${cls}">${escapeHtml(all)}</span>` : escapeHtml(all);
    last = m.index + all.length;
  }
  return html + escapeHtml(text.slice(last)) + "\n";
}

function lineStarts(text) {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === "\n") starts.push(i + 1);
  return starts;
}

// 1-based line and code-point column → UTF-16 offset in the text.
function offsetOf(text, starts, line, column) {
  if (!line || line < 1) return 0;
  const start = starts[Math.min(line, starts.length) - 1];
  const end = text.indexOf("\n", start);
  const lineText = text.slice(start, end < 0 ? text.length : end);
  return start + Array.from(lineText).slice(0, Math.max(0, column - 1)).join("").length;
}

function squiggles(text, diagnostics) {
  const starts = lineStarts(text);
  const marks = diagnostics.map((d) => {
    let a = offsetOf(text, starts, d.rad, d.kolumn);
    let b = d.slutrad ? offsetOf(text, starts, d.slutrad, d.slutkolumn) : a + 1;
    if (b <= a) b = a + 1;
    while (b > a + 1 && text[b - 1] === "\n") b--;
    return [Math.min(a, text.length), Math.min(b, text.length + 1), d.allvarlighet];
  }).sort((x, y) => x[0] - y[0]);
  let html = "", last = 0;
  for (const [a0, b, kind] of marks) {
    const a = Math.max(a0, last);
    if (b <= a) continue;
    html += escapeHtml(text.slice(last, a));
    const body = text.slice(a, b) || " ";
    html += `<span class="sq-${kind === "varning" ? "varning" : "fel"}">${escapeHtml(body.replace(/\n/g, " \n"))}</span>`;
    last = b;
  }
  return html + escapeHtml(text.slice(last)) + "\n";
}

function paint() {
  const text = $("text").value;
  $("farg").innerHTML = colour(text);
  $("streck").innerHTML = squiggles(text, state.diagnostics);
  syncScroll();
}

function syncScroll() {
  for (const id of ["farg", "streck"]) {
    $(id).scrollTop = $("text").scrollTop;
    $(id).scrollLeft = $("text").scrollLeft;
  }
}

// ---- live diagnostics ------------------------------------------------------------------------

function scheduleCheck() {
  clearTimeout(state.checkTimer);
  state.checkTimer = setTimeout(check, 250);
}

async function check() {
  const text = $("text").value;
  const seq = ++state.checkSeq;
  const { status, body } = await api(`/api/check?namn=${encodeURIComponent(state.name)}`, {
    method: "POST", headers: { "content-type": "text/plain; charset=utf-8" }, body: text });
  if (seq !== state.checkSeq) return;        // a newer check is on its way
  if (status !== 200) {
    state.diagnostics = [];
    $("status").className = "fel";
    $("status").textContent = body.fel ? body.fel[0].meddelande : "kontrollen misslyckades";
    paint();
    return;
  }
  state.diagnostics = body.diagnoser;
  const errors = body.diagnoser.filter((d) => d.allvarlighet === "fel").length;
  const warnings = body.diagnoser.length - errors;
  $("status").className = errors ? "fel" : "ok";
  $("status").textContent = `${errors} fel, ${warnings} ${warnings === 1 ? "varning" : "varningar"}`;
  const list = $("diagnoser");
  list.replaceChildren(...body.diagnoser.map((d) => {
    const item = el("li", { class: d.allvarlighet === "varning" ? "varning" : "fel" },
      el("span", { class: "kod", text: `rad ${d.rad ?? "?"}:${d.kolumn ?? "?"} ${d.allvarlighet}[${d.kod}]` }),
      `: ${d.meddelande}`);
    if (d.tips) item.append(el("span", { class: "tips", text: ` – tips: ${d.tips}` }));
    item.addEventListener("click", () => goTo(d.rad, d.kolumn));
    return item;
  }));
  paint();
}

function goTo(line, column) {
  const text = $("text").value;
  const at = offsetOf(text, lineStarts(text), line, column);
  $("text").focus();
  $("text").setSelectionRange(at, at);
  $("text").scrollTop = Math.max(0, (line - 5) * state.lineHeight);
  syncScroll();
}

// ---- hover: the language server's text for the name under the pointer -----------------------

function measure() {
  const probe = el("span", { text: "x".repeat(100) });
  probe.className = "o";
  $("farg").append(probe);
  state.charWidth = probe.getBoundingClientRect().width / 100 || state.charWidth;
  probe.remove();
}

function onHover(event) {
  clearTimeout(state.hoverTimer);
  $("hover").hidden = true;
  state.hoverTimer = setTimeout(() => hoverAt(event.clientX, event.clientY), 300);
}

async function hoverAt(x, y) {
  const area = $("text"), box = area.getBoundingClientRect();
  const line = Math.floor((y - box.top + area.scrollTop - state.pad) / state.lineHeight);
  const col = Math.floor((x - box.left + area.scrollLeft - state.pad) / state.charWidth);
  const lines = area.value.split("\n");
  if (line < 0 || line >= lines.length || col < 0) return;
  const cps = Array.from(lines[line]);
  if (col >= cps.length) return;
  const units = cps.slice(0, col).join("").length;
  const { status, body } = await api("/api/hover", {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ text: area.value, rad: line, tecken: units }) });
  if (status !== 200 || !body) return;
  const tip = $("hover");
  tip.textContent = body.text.replace(/\*\*/g, "").replace(/`/g, "");
  tip.style.left = `${Math.min(x + 12, window.innerWidth - 420)}px`;
  tip.style.top = `${y + 16}px`;
  tip.hidden = false;
}

// ---- loading an agreement --------------------------------------------------------------------

function setText(text, name) {
  $("text").value = text;
  state.saved = text;
  state.name = name;
  $("filnamn").textContent = name;
  paint();
  check();
}

async function loadExamples() {
  const { status, body } = await api("/api/exempel");
  if (status !== 200 || !body.length) return;
  $("exempel").replaceChildren(...body.map((x) => el("option", { value: x.namn, text: x.namn })));
}

async function loadExample() {
  const name = $("exempel").value;
  if (!name) return;
  const { status, body } = await api(`/api/exempel/${encodeURIComponent(name)}`);
  if (status === 200) {
    setText(body.text, body.fil);
    document.querySelector('input[name="datakalla"][value="exempel"]').checked = true;
  }
}

// ---- running ---------------------------------------------------------------------------------

function form(extra = {}) {
  const fd = new FormData();
  fd.append("overenskommelse", new Blob([$("text").value], { type: "text/plain" }), state.name);
  const source = document.querySelector('input[name="datakalla"]:checked').value;
  if (source === "exempel") fd.append("exempel", $("exempel").value);
  else for (const f of $("datafiler").files) fd.append("data", f, f.name);
  if ($("per").value.trim()) fd.append("per", $("per").value.trim());
  for (const p of $("param").value.split(/[,\n]/).map((s) => s.trim()).filter(Boolean)) {
    fd.append("param", p);
  }
  for (const [k, v] of Object.entries(extra)) {
    if (v instanceof Blob) fd.append(k, v, k + ".villkor"); else fd.append(k, v);
  }
  return fd;
}

function busy(text) {
  $("korstatus").className = "";
  $("korstatus").textContent = text;
  $("korfel").replaceChildren();
}

function failed(body, status) {
  $("korstatus").className = "fel";
  const what = { 400: "Begäran kunde inte tas emot", 408: "Beräkningen tog för lång tid",
                 413: "För stora indata", 422: "Överenskommelsen eller indata har fel",
                 501: "Kommer" }[status] || "Något gick fel";
  $("korstatus").textContent = `${what}:`;
  $("korfel").replaceChildren(el("ul", {}, ...problems(body)));
}

async function run() {
  busy("Kör …");
  $("kor").disabled = true;
  try {
    const { status, body } = await api("/api/run", { method: "POST", body: form({ forklaringar: "ja" }) });
    if (status !== 200) { failed(body, status); return; }
    state.explanations = body.forklaringar || {};
    renderResult(body);
    renderPots(body.potter);
    const warn = body.varningar.length ? `, ${body.varningar.length} varningar` : "";
    $("korstatus").textContent = `Klart: ${body.rader.length} rader, version ${body.version}${warn}.` +
      (body.antal_fel ? ` ${body.antal_fel} felrader i indata.` : "");
    if (body.varningar.length) $("korfel").replaceChildren(el("ul", {}, ...problems({ fel: body.varningar })));
  } finally {
    $("kor").disabled = false;
  }
}

function renderResult(body) {
  const columns = [], recipients = new Map(), cells = new Map();
  for (const r of body.rader) {
    if (r.villkor !== "summa" && !columns.includes(r.villkor)) columns.push(r.villkor);
    if (!recipients.has(r.mottagare)) recipients.set(r.mottagare, r.namn);
    cells.set(`${r.mottagare}\u0000${r.villkor}`, r);
  }
  columns.push("summa");
  const head = el("tr", {}, el("th", { text: "mottagare" }), el("th", { text: "namn" }),
    ...columns.map((c) => el("th", { text: c === "summa" ? "summa" : `villkor ${c}` })));
  const rows = [];
  const totals = columns.map(() => 0n);
  for (const [code, name] of recipients) {
    const tr = el("tr", {}, el("td", { text: code }), el("td", { text: name }));
    columns.forEach((c, i) => {
      const r = cells.get(`${code}\u0000${c}`);
      if (!r) { tr.append(el("td")); return; }
      const id = anchor(code, c);
      const link = el("a", { href: `#${id}`, "data-ankare": id, title: `förklaring: ${name}, ${c}` },
        money(r.belopp), el("br"), el("small", { text: r.utfall }));
      tr.append(el("td", { class: `belopp ${VERDICT_CLASS[r.utfall] || ""}`, id: `cell-${id}` }, link));
      if (r.belopp !== null) totals[i] += BigInt(Math.round(Number(r.belopp) * 100));
    });
    rows.push(tr);
  }
  const foot = el("tr", {}, el("td", { colspan: "2", text: "totalt" }),
    ...totals.map((t) => el("td", { class: "belopp", text: money((Number(t) / 100).toFixed(2).replace(/\.00$/, "")) })));
  $("resultat").replaceChildren(el("h2", { text: `Utfall (${body.version})` }),
    el("table", { id: "utfall" }, el("thead", {}, head), el("tbody", {}, ...rows), el("tfoot", {}, foot)));
}

function renderPots(pots) {
  const head = el("tr", {}, ...["utbetalning", "villkor", "pott", "exakt fördelat", "utbetalt",
    "avrundningsdifferens", "anmärkning"].map((t) => el("th", { text: t })));
  const rows = pots.map((p) => el("tr", {}, el("td", { text: p.utbetalning }), el("td", { text: p.villkor }),
    el("td", { class: "belopp", text: money(p.pott) }), el("td", { class: "belopp", text: money(p.exakt_fördelat) }),
    el("td", { class: "belopp", text: money(p.utbetalt) }),
    el("td", { class: "belopp", text: money(p.avrundningsdifferens) }), el("td", { text: p.anmärkning })));
  $("potter").replaceChildren(el("h2", { text: "Potter och avrundning" }),
    el("table", { id: "pottabell" }, el("thead", {}, head), el("tbody", {}, ...rows)));
}

function showExplanation(id) {
  const text = state.explanations[id];
  if (!text) return;
  document.querySelectorAll("td.vald").forEach((td) => td.classList.remove("vald"));
  const cell = $(`cell-${id}`);
  if (cell) cell.classList.add("vald");
  $("forklaring").hidden = false;
  $("forklaring-rubrik").textContent = "Förklaring: " + text.split("\n").find((l) => /^(Summa|Villkor) /.test(l));
  $("forklaring-text").textContent = text;
  $("forklaring").scrollIntoView({ block: "nearest" });
}

// ---- compare with the saved version ----------------------------------------------------------

async function compare() {
  if (state.saved === null) {
    busy("");
    failed({ fel: [{ kod: "V322", meddelande: "det finns ingen sparad version att jämföra med",
                     tips: "ladda ett exempel eller öppna en fil först" }] }, 400);
    return;
  }
  busy("Jämför …");
  const saved = new Blob([state.saved], { type: "text/plain" });
  const { status, body } = await api("/api/diff", { method: "POST", body: form({ sparad: saved }) });
  if (status !== 200) { failed(body, status); return; }
  const head = el("tr", {}, ...["mottagare", "namn", "sparad", "ändrad", "skillnad", "anmärkning"]
    .map((t) => el("th", { text: t })));
  const rows = body.summor.map((s) => el("tr", {}, el("td", { text: s.mottagare }), el("td", { text: s.namn }),
    el("td", { class: "belopp", text: money(s.belopp_fore) }), el("td", { class: "belopp", text: money(s.belopp_efter) }),
    el("td", { class: `belopp ${sign(s.skillnad)}`, text: s.skillnad === null ? "–" : plus(s.skillnad) }),
    el("td", { text: s.orsak })));
  const t = body.totalt;
  const foot = el("tr", {}, el("td", { colspan: "2", text: "totalt" }),
    el("td", { class: "belopp", text: money(t.utbetalt_fore) }), el("td", { class: "belopp", text: money(t.utbetalt_efter) }),
    el("td", { class: `belopp ${sign(t.skillnad)}`, text: t.skillnad === null ? "–" : plus(t.skillnad) }),
    el("td", { text: t.orsak || t.anmarkning || "" }));
  const changed = body.summor.filter((s) => s.andrad).length;
  $("jamforelse").replaceChildren(el("h2", { text: "Jämförelse med sparad version" }),
    el("p", { text: `${changed} av ${body.summor.length} mottagares summor ändras.` }),
    el("table", { id: "jamfortabell" }, el("thead", {}, head), el("tbody", {}, ...rows), el("tfoot", {}, foot)));
  $("korstatus").textContent = "Jämförelsen är klar.";
}
const sign = (d) => (d === null || d === "0" ? "" : d.startsWith("-") ? "minus" : "plus");
const plus = (d) => (d !== "0" && !d.startsWith("-") ? "+" : "") + money(d);

// ---- downloads -------------------------------------------------------------------------------

async function download(path, extra, filename) {
  busy("Hämtar …");
  const { status, body } = await api(path, { method: "POST", body: form(extra) });
  if (status !== 200) { failed(body, status); return; }
  const url = URL.createObjectURL(body);
  const link = el("a", { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  $("korstatus").textContent = `Hämtat: ${filename}`;
}

// ---- wiring ----------------------------------------------------------------------------------

async function start() {
  const { body } = await api("/api/nyckelord");
  state.keywords = new Set(body);
  measure();
  const area = $("text");
  area.addEventListener("input", () => {
    paint(); scheduleCheck();
    if ($("korstatus").className === "fel") busy("");   // a refused run's errors are stale now
  });
  area.addEventListener("scroll", syncScroll);
  area.addEventListener("mousemove", onHover);
  area.addEventListener("mouseleave", () => { clearTimeout(state.hoverTimer); $("hover").hidden = true; });
  area.addEventListener("keydown", (e) => {
    if (e.key === "Tab") {           // two spaces, the layout `villkor fmt` uses
      e.preventDefault();
      area.setRangeText("  ", area.selectionStart, area.selectionEnd, "end");
      paint(); scheduleCheck();
    }
  });
  $("ladda-exempel").addEventListener("click", loadExample);
  $("avtalsfil").addEventListener("change", async () => {
    const f = $("avtalsfil").files[0];
    if (f) setText(await f.text(), f.name);
  });
  $("datafiler").addEventListener("change", () => {
    document.querySelector('input[name="datakalla"][value="filer"]').checked = true;
    $("datanamn").textContent = Array.from($("datafiler").files, (f) => f.name).join(", ") || "inga valda";
  });
  $("kor").addEventListener("click", run);
  $("jamfor").addEventListener("click", compare);
  $("ladda-csv").addEventListener("click", () => download("/api/run", { format: "csv" }, "utfall.csv"));
  $("ladda-xlsx").addEventListener("click", () => download("/api/run", { format: "xlsx" }, "utfall.xlsx"));
  $("rapport").addEventListener("click", () => download("/api/report", { format: "html" }, "rapport.html"));
  $("rapport-xlsx").addEventListener("click", () => download("/api/report", { format: "xlsx" }, "rapport.xlsx"));
  $("resultat").addEventListener("click", (e) => {
    const link = e.target.closest("a[data-ankare]");
    if (link) showExplanation(link.dataset.ankare);
  });
  window.addEventListener("hashchange", () => showExplanation(location.hash.slice(1)));
  await loadExamples();
  paint();
  document.body.dataset.klar = "ja";
}

document.addEventListener("DOMContentLoaded", start);
