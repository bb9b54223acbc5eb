"""`wardwatch review`: the editors' review queue, a small server-rendered web app on 127.0.0.1.

Pages work without JavaScript (plain links and forms). A fact change and its own ``fact_changed`` flag are one
item (deciding one decides both); the queue can be decided in bulk (the shown items, or the ones ticked);
a ノイズ without a reason re-renders the page with the message next to the field and what was typed kept;
each decision is confirmed with an undo (new ``reviews`` rows restoring the previous state). ``/rules``
lists the noise rules (disable / re-enable, each change a ``reviews`` row); ``/archive/<id>`` links the
previous / next version of the page and shows the diff to the previous one; ``/feed.atom`` is an Atom
feed of changes and flags (``?ward=``, ``?program=``). The queue is grouped like the report: a section per
municipality, in it a group per program (``?program=ID`` shows one). State-changing requests are POSTs carrying a
CSRF token (a random per-session cookie echoed in a hidden field, compared with
``hmac.compare_digest``); a missing or different token, or an Origin/Referer of another host, is
refused with 403. Requests whose Host is not the bound host/loopback are refused (DNS rebinding).
Archived pages are served sanitized (an nh3 allow-list, ``wardwatch.review.sanitize``), sandboxed (CSP
``sandbox``) and never sniffed, with a notice when no charset decodes them; PDFs as downloads. POST bodies
over 256 KB are refused with 413 before they are read (by Content-Length) or as soon as the stream passes
the limit (chunked).
"""

from __future__ import annotations

import hmac
import re
import secrets
import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from extractors.encoding import decode_html
from extractors.model import ExtractionError
from wardwatch.report import model_of
from wardwatch.report.html import app_page, render, report_page
from wardwatch.report.labels import STATUS_LABELS
from wardwatch.report.model import STATUS_FILTERS, build_report, side_by_side
from wardwatch.review.feed import atom_feed
from wardwatch.review.sanitize import sanitize_html
from warehouse.db import connect
from warehouse.review import (
    ReviewError,
    archived_version,
    ensure_schema,
    noise_rule_from_change,
    noise_rules,
    record_decisions,
    report_data,
    reviews_by_id,
    rules_made_by,
    set_noise_rule_state,
    undo_reviews,
)

CSRF_COOKIE = "wardwatch_csrf"
REVIEWER_COOKIE = "wardwatch_reviewer"
MAX_FORM_BYTES = 256 * 1024
APP_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-src 'self'; "
           "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
RAW_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'"
DEFAULT_HEADERS = {"Content-Security-Policy": APP_CSP, "X-Content-Type-Options": "nosniff",
                   "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin", "Cache-Control": "no-store"}
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_TOKEN_RE = re.compile(r"[A-Za-z0-9_\-]{32,64}")


class Guard:
    """ASGI wrapper: refuse foreign Host headers; add the default security headers."""

    def __init__(self, app: Any, allowed_hosts: set[str]):
        self.app, self.allowed = app, allowed_hosts

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if _hostname(Headers(scope=scope).get("host", "")) not in self.allowed:
            return await PlainTextResponse("unknown host", status_code=400)(scope, receive, send)

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in DEFAULT_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _hostname(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def create_app(db_path: Path, reviewer: str | None = None, host: str = "127.0.0.1") -> Any:
    """The review app for ``db_path`` (decisions default to ``reviewer``)."""
    db_path = Path(db_path)
    ensure_schema(db_path)
    routes = [Route("/", index), Route("/report", static_report), Route("/decide", decide, methods=["POST"]),
              Route("/undo", undo, methods=["POST"]), Route("/rules", rules_page),
              Route("/rules/state", rule_state, methods=["POST"]), Route("/feed.atom", feed),
              Route("/archive/{version_id}", archive), Route("/archive/{version_id}/raw", archive_raw)]
    app = Starlette(routes=routes)
    app.state.db_path = db_path
    app.state.reviewer = reviewer
    app.state.lock = threading.Lock()  # one DuckDB connection at a time in this process
    return Guard(app, LOOPBACK | {_hostname(host)})


# Endpoints. The plain ``def`` ones query DuckDB, so Starlette runs them in its thread pool.

FILTERS = ("ward", "source", "program", "rule")
MESSAGE_PARAMS = ("done", "undone", "skipped")  # the confirmation's query parameters (never kept in ``next``)


def index(request: Request) -> Response:
    """The review queue: changes and flags by municipality › program, filtered by status, ward, source, program
    (``?program=``: a program id, or the heading text of items without one) and flag rule."""
    return queue_page(request, request.url.path, request.url.query)


def queue_page(request: Request, path: str, query: str, *, error: dict[str, Any] | None = None,
               status_code: int = 200) -> Response:
    """The queue for ``path?query`` (``error``: a form to show again with its message and what was typed)."""
    state = request.app.state
    q = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
    status = q.get("status") if q.get("status") in STATUS_FILTERS else "open"
    filters = {k: (q.get(k) or None) for k in FILTERS}
    with state.lock:
        data = report_data(state.db_path)
        done = _confirmation(state.db_path, q)
    sources = sorted({r["source_id"] for r in data["changes"] + data["flags"] if r.get("source_id")})
    if filters["source"]:
        data = {**data, "changes": [c for c in data["changes"] if c["source_id"] == filters["source"]],
                "flags": [f for f in data["flags"] if f["source_id"] == filters["source"]]}
    model = build_report(data, status=status, ward=filters["ward"], program=filters["program"], rule=filters["rule"])
    model["title"] = "wardwatch レビュー"
    token = _csrf_token(request)
    feed_query = urlencode([(k, filters[k]) for k in ("ward", "program") if filters[k]])
    feed_url = "/feed.atom" + (f"?{feed_query}" if feed_query else "")  # the feed of what the queue shows
    kept = urlencode([(k, v) for k, vs in parse_qs(query, keep_blank_values=True).items() if k not in MESSAGE_PARAMS
                      for v in vs])
    ctx = {"csrf": token[0], "next": path + (f"?{kept}" if kept else ""), "filters": {**filters, "status": status},
           "reviewer": _cookie_reviewer(request) or state.reviewer or "", "sources": sources, "error": error,
           "done": done, "picked": (error or {}).get("picked", []), "feed_url": feed_url}
    return _page(app_page(model, ctx), status=status_code, token=token)


def _confirmation(db_path: Path, q: dict[str, str]) -> dict[str, Any] | None:
    """The confirmation shown after a decision (``?done=<review ids>``) or an undo (``?undone=N``)."""
    if q.get("undone"):
        n, skipped = _int(q.get("undone")), _int(q.get("skipped"))
        msg = f"{n}件の判断を取り消し、前の状態に戻しました。"
        if skipped:
            msg += f"({skipped}件はその後に別の判断があったため、そのままです)"
        return {"message": msg, "review_ids": []}
    ids = [i for i in (q.get("done") or "").split(",") if _REVIEW_ID_RE.fullmatch(i)][:MAX_ITEMS]
    rows = [r for r in reviews_by_id(db_path, ids) if r["latest"]]
    if not rows:
        return None
    kinds = {r["status"] for r in rows}
    if kinds <= {"disabled", "enabled"}:
        label = "無効に" if kinds == {"disabled"} else "再び有効に" if kinds == {"enabled"} else "変更"
        return {"message": f"ノイズルール {len(rows)}件を{label}しました。", "review_ids": [r["review_id"] for r in rows]}
    items = len({(r["item_type"], r["item_key"]) for r in rows})
    linked = sum(r["item_type"] == "flag" for r in rows) if any(r["item_type"] == "change" for r in rows) else 0
    label = "・".join(STATUS_LABELS.get(k, k) for k in sorted(kinds))
    msg = f"{items - linked}件を「{label}」にしました。"
    if linked:
        msg += f"(変更に対する「公式情報の変更」フラグ {linked}件も同じ判断にしました)"
    made = rules_made_by(db_path, ids)
    if made:
        msg += f" ノイズルールを{len(made)}件作成しました(取り消しても残ります。ノイズルールのページで無効にできます)。"
    return {"message": msg, "review_ids": [r["review_id"] for r in rows]}


def _int(value: str | None) -> int:
    return int(value) if value and value.isdigit() and len(value) < 7 else 0


_REVIEW_ID_RE = re.compile(r"\d{8}T\d{6,12}Z-[0-9a-f]{8}")
MAX_ITEMS = 2000  # items one POST may decide


def static_report(request: Request) -> Response:
    """The static HTML report (``?all=1``: items already reviewed or dismissed too); its 保存版 links open here."""
    state = request.app.state
    with state.lock:
        model = model_of(state.db_path, include_all=request.query_params.get("all") == "1")
    return HTMLResponse(report_page(model, archive_prefix="/archive/"))


async def _form(request: Request) -> dict[str, list[str]] | Response:
    """The posted form, or the refusal: another origin, too large, no or a wrong CSRF token."""
    if not same_origin(request):
        return _message(403, "別のサイトからの送信は受け付けません。")
    body = await read_limited(request, MAX_FORM_BYTES)
    if isinstance(body, int):
        return _message(body, "送信内容が大きすぎます。" if body == 413 else "送信内容の長さ(Content-Length)が不正です。")
    form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    cookie, sent = request.cookies.get(CSRF_COOKIE, ""), (form.get("csrf") or [""])[0]
    if not cookie or not sent or not hmac.compare_digest(cookie.encode(), sent.encode()):
        return _message(403, "フォームの有効期限が切れたか、不正な送信です(CSRFトークンが一致しません)。ページを再読み込みしてください。")
    return form


def _items(values: list[str]) -> list[tuple[str, str]]:
    """``type:key`` values (a value may hold several, separated by spaces), each once."""
    out: dict[tuple[str, str], None] = {}
    for value in values:
        for one in value.split():
            item_type, _, key = one.partition(":")
            out[(item_type, key)] = None
    return list(out)


async def decide(request: Request) -> Response:
    """Record one decision for the posted items (CSRF-checked), then redirect to ``next`` with a confirmation.

    The items are the form's ``item`` fields (one item's form), or on the bulk form the ticked ``pick`` boxes,
    or every ``shown`` item when ``all_shown`` is ticked. A ノイズ without a reason, or a bulk decision with
    nothing ticked, shows the page again with the message next to the field and what was typed kept."""
    state = request.app.state
    form = await _form(request)
    if isinstance(form, Response):
        return form
    first = {k: (v[0] if v else "") for k, v in form.items()}
    if first.get("all_shown") == "1":
        items = _items(form.get("shown", []))
    else:
        items = _items(form.get("item", []) + form.get("pick", []))
    who = first.get("reviewer") or _cookie_reviewer(request) or state.reviewer
    status = first.get("status", "")
    next_url = _safe_next(first.get("next"))
    problem = None
    if not items:
        problem = "項目が選択されていません。各項目の「選択」にチェックを入れるか、「表示中のすべて」を選んでください。"
    elif status == "noise" and not first.get("reason", "").strip():
        problem = "ノイズとして却下するには理由を入力してください。"
    elif len(items) > MAX_ITEMS:
        problem = f"一度に判断できるのは{MAX_ITEMS}件までです。"
    if problem:
        path, _, query = next_url.partition("?")
        error = {"form_id": first.get("form_id", ""), "message": problem, "picked": form.get("pick", []),
                 "values": {k: first.get(k, "") for k in ("reason", "note", "reviewer", "make_rule", "all_shown")}}
        return await run_in_threadpool(queue_page, request, path, query, error=error, status_code=400)

    def store() -> list[str]:
        with state.lock:
            ids = record_decisions(state.db_path, items, status, reason=first.get("reason"), note=first.get("note"),
                                   reviewer=who)
            if status == "noise" and first.get("make_rule") == "1":
                made = {(r["item_type"], r["item_key"]): r["review_id"] for r in reviews_by_id(state.db_path, ids)}
                for item_type, key in items:
                    if item_type == "change":
                        noise_rule_from_change(state.db_path, key, reason=first.get("reason"),
                                               review_id=made.get((item_type, key)), created_by=who)
            return ids

    try:
        ids = await run_in_threadpool(store)
    except ReviewError as exc:
        return _message(400, f"保存できませんでした: {exc}")
    response = RedirectResponse(_with_params(next_url, done=",".join(ids)), status_code=303)
    if who:
        response.set_cookie(REVIEWER_COOKIE, quote(who), httponly=True, samesite="strict", path="/")
    return response


async def undo(request: Request) -> Response:
    """Undo the posted decisions (``review`` fields): new rows restoring each item's previous state."""
    state = request.app.state
    form = await _form(request)
    if isinstance(form, Response):
        return form
    ids = [i for i in form.get("review", []) if _REVIEW_ID_RE.fullmatch(i)][:MAX_ITEMS]
    who = _cookie_reviewer(request) or state.reviewer

    def store() -> dict[str, list[str]]:
        with state.lock:
            return undo_reviews(state.db_path, ids, reviewer=who)

    try:
        result = await run_in_threadpool(store)
    except ReviewError as exc:
        return _message(400, f"取り消せませんでした: {exc}")
    target = _with_params(_safe_next((form.get("next") or ["/"])[0]), undone=str(len(result["undone"])),
                          skipped=str(len(result["skipped"])))
    return RedirectResponse(target, status_code=303)


def rules_page(request: Request) -> Response:
    """Every noise rule: what it hides, active or not, its history; a button to disable / re-enable it."""
    state = request.app.state
    q = {k: v[-1] for k, v in parse_qs(request.url.query).items()}
    with state.lock:
        with connect(state.db_path, read_only=True) as con:
            rules = noise_rules(con)
        done = _confirmation(state.db_path, q)
    token = _csrf_token(request)
    model = {"title": "wardwatch ノイズルール", "rules": rules}
    ctx = {"csrf": token[0], "next": "/rules", "done": done, "reviewer": _cookie_reviewer(request) or state.reviewer}
    return _page(render("rules.html", model=model, ctx=ctx), token=token)


async def rule_state(request: Request) -> Response:
    """Disable (``active=0``) or re-enable (``active=1``) one noise rule; recorded in ``reviews``."""
    state = request.app.state
    form = await _form(request)
    if isinstance(form, Response):
        return form
    first = {k: (v[0] if v else "") for k, v in form.items()}
    who = first.get("reviewer") or _cookie_reviewer(request) or state.reviewer

    def store() -> str:
        with state.lock:
            return set_noise_rule_state(state.db_path, first.get("rule", ""), first.get("active") == "1",
                                        reason=first.get("reason"), reviewer=who)

    try:
        review_id = await run_in_threadpool(store)
    except ReviewError as exc:
        return _message(400, f"保存できませんでした: {exc}")
    return RedirectResponse(_with_params("/rules", done=review_id), status_code=303)


def feed(request: Request) -> Response:
    """An Atom feed (RFC 4287) of fact changes and open flags, newest first (``?ward=`` for one ward,
    ``?program=`` for one program: its id, or the heading of items without one)."""
    state = request.app.state
    ward = request.query_params.get("ward") or None
    program = request.query_params.get("program") or None
    with state.lock:
        data = report_data(state.db_path)
    base = f"{request.url.scheme}://{request.url.netloc}"
    return Response(atom_feed(data, base, ward=ward, program=program),
                    media_type="application/atom+xml; charset=utf-8")


def _with_params(url: str, **params: str) -> str:
    path, _, query = url.partition("?")
    kept = [(k, v) for k, vs in parse_qs(query, keep_blank_values=True).items() if k not in MESSAGE_PARAMS for v in vs]
    return path + "?" + urlencode(kept + list(params.items()))


def archive(request: Request) -> Response:
    """The page around one archived version (its content framed from ``/raw``): previous / next version of the
    same URL and the diff of the extracted main text to the previous one."""
    state = request.app.state
    vid = request.path_params["version_id"]
    with state.lock:
        version = archived_version(state.db_path, vid)
    if version is None:
        return _message(404, "この版は保存されていません。")
    version.pop("data")
    previous = version.pop("previous_text")
    diff = None
    if previous is not None and version.get("main_text") is not None:
        diff = {"anchor": "diff-previous", "url": version["url"], "before_version_id": version["previous_id"],
                "after_version_id": vid, "rows": side_by_side(previous, version["main_text"])}
    model = {"title": f"保存版 {vid}", "version": version, "is_html": _is_html(version["media_type"]), "diff": diff}
    return _page(render("archive.html", model=model, ctx={"archive_prefix": "/archive/"}))


def archive_raw(request: Request) -> Response:
    """One archived version's bytes: HTML sanitized and sandboxed, anything else as a download."""
    state = request.app.state
    with state.lock:
        version = archived_version(state.db_path, request.path_params["version_id"])
    if version is None:
        return PlainTextResponse("not found", status_code=404)
    headers = {"Content-Security-Policy": RAW_CSP, "X-Content-Type-Options": "nosniff"}
    if _is_html(version["media_type"]):
        data, notice = bytes(version["data"]), None
        try:
            text, _ = decode_html(data, version["charset"])
        except (ExtractionError, LookupError, ValueError) as exc:  # no charset decodes it: shown replaced, said so
            text = data.decode("utf-8", "replace")
            notice = (f"注意: この保存版の文字コードを判定できませんでした({_first_line(exc)})。"
                      "UTF-8 として読めない文字を「\ufffd」に置き換えて表示しています。証拠としては元のバイト列を確認してください。")
        html = sanitize_html(text, version["url"], notice=notice)
        return HTMLResponse(html, headers={**headers, "X-Frame-Options": "SAMEORIGIN"})
    ext = ".pdf" if version["media_type"] == "application/pdf" else ".bin"
    media = "application/pdf" if ext == ".pdf" else "application/octet-stream"
    headers["Content-Disposition"] = f'attachment; filename="{version["sha256"][:16]}{ext}"'
    return Response(bytes(version["data"]), media_type=media, headers=headers)


# Helpers shared by the endpoints.

async def read_limited(request: Request, limit: int) -> bytes | int:
    """The request body, or the status to refuse it with: 413 when it is longer than ``limit`` (decided from
    Content-Length before reading anything, else while streaming: never more than one chunk past ``limit`` is
    held), 400 when Content-Length is not a number."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not (declared.strip().isascii() and declared.strip().isdigit()):
            return 400
        if int(declared) > limit:
            return 413
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return 413
    return bytes(body)


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def _csrf_token(request: Request) -> tuple[str, bool]:
    """The session's CSRF token from its cookie, or a new one: ``(token, is_new)``."""
    token = request.cookies.get(CSRF_COOKIE, "")
    return (token, False) if _TOKEN_RE.fullmatch(token) else (secrets.token_urlsafe(32), True)


def _cookie_reviewer(request: Request) -> str:
    """The reviewer name remembered in the reviewer cookie ("" when none)."""
    return unquote(request.cookies.get(REVIEWER_COOKIE, ""))


def _page(html: str, status: int = 200, token: tuple[str, bool] | None = None) -> HTMLResponse:
    """An HTML response; sets the CSRF cookie when ``token`` is a new one."""
    response = HTMLResponse(html, status_code=status)
    if token and token[1]:
        response.set_cookie(CSRF_COOKIE, token[0], httponly=True, samesite="strict", path="/")
    return response


def _message(status: int, text: str) -> HTMLResponse:
    """A short message page with ``status`` (errors and refusals)."""
    return _page(render("message.html", model={"title": f"wardwatch レビュー — {status}"},
                        ctx={"message": text, "status": status}), status)


def same_origin(request: Request) -> bool:
    """False when Origin (or, without it, Referer) names another host than the request's Host."""
    host = request.headers.get("host", "").lower()
    origin = request.headers.get("origin")
    if origin is not None:
        return origin != "null" and urlsplit(origin).netloc.lower() == host
    referer = request.headers.get("referer")
    return referer is None or urlsplit(referer).netloc.lower() == host


def _safe_next(value: str | None) -> str:
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def _is_html(media_type: str | None) -> bool:
    return (media_type or "").split(";")[0].strip() in ("text/html", "application/xhtml+xml")


def serve(db_path: Path, host: str = "127.0.0.1", port: int = 8000, reviewer: str | None = None) -> None:
    """Serve the review app on ``host:port`` (uvicorn is imported here: only serving needs it)."""
    import uvicorn

    uvicorn.run(create_app(db_path, reviewer=reviewer, host=host), host=host, port=port, log_level="warning",
                server_header=False)
