"""`wardwatch review`: the editors' review queue, a small server-rendered web app on 127.0.0.1.

Pages work without JavaScript (plain links and forms). State-changing requests are POSTs carrying a
CSRF token (a random per-session cookie echoed in a hidden field, compared with
``hmac.compare_digest``); a missing or different token, or an Origin/Referer of another host, is
refused with 403. Requests whose Host is not the bound host/loopback are refused (DNS rebinding).
Archived pages are served sanitized, sandboxed (CSP ``sandbox``) and never sniffed; PDFs as downloads.
"""

from __future__ import annotations

import hmac
import re
import secrets
import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from extractors.encoding import decode_html
from wardwatch.report import render as render_report
from wardwatch.report.html import app_page, render
from wardwatch.report.model import STATUS_FILTERS, build_report
from wardwatch.review.sanitize import sanitize_html
from warehouse.review import (
    ReviewError,
    archived_version,
    ensure_schema,
    noise_rule_from_change,
    record_decisions,
    report_data,
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
              Route("/archive/{version_id}", archive), Route("/archive/{version_id}/raw", archive_raw)]
    app = Starlette(routes=routes)
    app.state.db_path = db_path
    app.state.reviewer = reviewer
    app.state.lock = threading.Lock()  # one DuckDB connection at a time in this process
    return Guard(app, LOOPBACK | {_hostname(host)})


# Endpoints. The plain ``def`` ones query DuckDB, so Starlette runs them in its thread pool.

def index(request: Request) -> Response:
    """The review queue: changes and flags filtered by status, ward, program and flag rule."""
    state = request.app.state
    q = request.query_params
    status = q.get("status") if q.get("status") in STATUS_FILTERS else "open"
    filters = {k: (q.get(k) or None) for k in ("ward", "program", "rule")}
    with state.lock:
        data = report_data(state.db_path)
    model = build_report(data, status=status, **filters)
    model["title"] = "wardwatch レビュー"
    token = _csrf_token(request)
    next_url = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    ctx = {"csrf": token[0], "next": next_url, "filters": {**filters, "status": status},
           "reviewer": _cookie_reviewer(request) or state.reviewer or ""}
    return _page(app_page(model, ctx), token=token)


def static_report(request: Request) -> Response:
    """The static HTML report (``?all=1``: items already reviewed or dismissed too)."""
    state = request.app.state
    with state.lock:
        html = render_report(state.db_path, "html", include_all=request.query_params.get("all") == "1")
    return HTMLResponse(html)


async def decide(request: Request) -> Response:
    """Record one decision for the posted items (CSRF-checked), then redirect to ``next``."""
    state = request.app.state
    if not same_origin(request):
        return _message(403, "別のサイトからの送信は受け付けません。")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return _message(413, "送信内容が大きすぎます。")
    form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    cookie, sent = request.cookies.get(CSRF_COOKIE, ""), (form.get("csrf") or [""])[0]
    if not cookie or not sent or not hmac.compare_digest(cookie.encode(), sent.encode()):
        return _message(403, "フォームの有効期限が切れたか、不正な送信です(CSRFトークンが一致しません)。ページを再読み込みしてください。")
    first = {k: (v[0] if v else "") for k, v in form.items()}
    items = [(t, k) for t, _, k in (v.partition(":") for v in form.get("item", []))]
    who = first.get("reviewer") or _cookie_reviewer(request) or state.reviewer
    status = first.get("status", "")

    def store() -> None:
        with state.lock:
            ids = record_decisions(state.db_path, items, status, reason=first.get("reason"), note=first.get("note"),
                                   reviewer=who)
            if status == "noise" and first.get("make_rule") == "1":
                for (item_type, key), review_id in zip(items, ids):
                    if item_type == "change":
                        noise_rule_from_change(state.db_path, key, reason=first.get("reason"), review_id=review_id,
                                               created_by=who)

    try:
        await run_in_threadpool(store)
    except ReviewError as exc:
        return _message(400, f"保存できませんでした: {exc}")
    response = RedirectResponse(_safe_next(first.get("next")), status_code=303)
    if who:
        response.set_cookie(REVIEWER_COOKIE, quote(who), httponly=True, samesite="strict", path="/")
    return response


def archive(request: Request) -> Response:
    """The page around one archived version (its content framed from ``/raw``)."""
    state = request.app.state
    vid = request.path_params["version_id"]
    with state.lock:
        version = archived_version(state.db_path, vid)
    if version is None:
        return _message(404, "この版は保存されていません。")
    version.pop("data")
    model = {"title": f"保存版 {vid}", "version": version, "is_html": _is_html(version["media_type"])}
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
        text, _ = decode_html(bytes(version["data"]), version["charset"])
        return HTMLResponse(sanitize_html(text, version["url"]), headers={**headers, "X-Frame-Options": "SAMEORIGIN"})
    ext = ".pdf" if version["media_type"] == "application/pdf" else ".bin"
    media = "application/pdf" if ext == ".pdf" else "application/octet-stream"
    headers["Content-Disposition"] = f'attachment; filename="{version["sha256"][:16]}{ext}"'
    return Response(bytes(version["data"]), media_type=media, headers=headers)


# Helpers shared by the endpoints.

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
