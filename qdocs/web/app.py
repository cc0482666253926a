"""The Flask application: :func:`create_app` wires the pages to one repository, and
every request passes the same checks.

- Every page except the log-in page and the static files needs a live session: a page
  is redirected to the log-in page, a JSON twin answered 401.  The user is looked up
  in the trust state at every request, so a revoked user is out at once.
- Every POST carries the session's CSRF token (the log-in form too, with the session
  made for it); a post without it, or with another, is refused (400).
- Every answer carries the security headers: a Content-Security-Policy that allows
  nothing inline and nothing from elsewhere (the only script is the package's own static file keeping form drafts), no framing,
  no MIME sniffing, no referrer.
"""

from __future__ import annotations

import hmac
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Flask, current_app, g, redirect, request
from werkzeug.exceptions import HTTPException

from ..errors import EnvironmentFailure, QdocsError
from . import labels
from .identity import current_identity
from .lockout import Lockout
from .pages import auth, board, changes, documents, forms, inbox, quality, records, search, signing
from .responses import problem, wants_json
from .sessions import SessionStore
from .state import COOKIE, Web
from .settings import Settings
from .workspace import Workspace

PUBLIC = {"auth.login", "auth.login_json", "auth.login_post", "static"}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "object-src 'self'; frame-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def create_app(repository_path: str | Path, settings: Settings | None = None) -> Flask:
    """The application over the records repository at ``repository_path``."""
    settings = settings or Settings()
    app = Flask(__name__, static_folder="static", template_folder="templates")
    app.config.update(MAX_CONTENT_LENGTH=110 * 1024 * 1024, JSON_SORT_KEYS=False)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["qdocs"] = Web(Workspace(repository_path, settings), settings,
                                  SessionStore(settings.idle_minutes * 60, settings.max_sessions),
                                  Lockout(settings.lockout_attempts, settings.lockout_minutes * 60))
    for module in (auth, inbox, forms, records, documents, signing, changes, search, board, quality):
        app.register_blueprint(module.blueprint)
    app.jinja_env.globals.update(labels.template_globals())
    app.before_request(_check_request)
    app.after_request(_finish_response)
    app.teardown_request(_end_request)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(QdocsError, _library_error)
    return app


def _check_request() -> Any:
    web: Web = current_app.extensions["qdocs"]
    g.web = web
    web.workspace.begin_request()
    g.session = web.sessions.get(request.cookies.get(COOKIE))
    g.identity = None
    if request.endpoint not in PUBLIC:
        session = g.session
        identity = current_identity(web.workspace.reader(), session.user) if session and session.user else None
        if identity is None:
            if session is not None and session.user:
                web.sessions.end(session.id)
            return _refuse_without_session()
        g.identity = identity
    if request.method == "POST":
        given = request.form.get("csrf_token", "")
        if g.session is None or not given or not hmac.compare_digest(given, g.session.csrf):
            return problem("the form's security token is missing or out of date; reload the page and try again "
                           "表单已过期，请刷新页面后重试", 400)
    return None


def _end_request(_: BaseException | None) -> None:
    current_app.extensions["qdocs"].workspace.end_request()


def _refuse_without_session() -> Any:
    if wants_json():
        return problem("log in first 请先登录", 401)
    target = request.full_path.rstrip("?") if request.method == "GET" else "/"
    return redirect("/login?" + urlencode({"next": target}), 303)


def _finish_response(response: Any) -> Any:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if "new_cookie" in g:
        web: Web = g.web
        if g.new_cookie:
            response.set_cookie(COOKIE, g.new_cookie, httponly=True, samesite="Strict",
                                secure=web.settings.secure_cookies, path="/")
        else:
            response.delete_cookie(COOKIE, path="/", httponly=True, samesite="Strict",
                                   secure=web.settings.secure_cookies)
    return response


def _http_error(error: HTTPException) -> Any:
    return problem(f"{error.code} {error.name}: {error.description}", error.code or 500)


def _library_error(error: QdocsError) -> Any:
    """A refusal of the library that a page did not show itself: its message, 400 (the
    input) or 503 (the environment: busy repository, LibreOffice missing)."""
    return problem(str(error), 503 if isinstance(error, EnvironmentFailure) else 400)
