"""Logging in and out.

The log-in form posts user name and passphrase; the passphrase must open the user's
key (:func:`..identity.authenticate`).  Five failures in a row lock the user name and
the client's address out for a while (:mod:`..lockout`); a success starts a new
session with a new id.  Messages never say whether the user name or the passphrase
was wrong.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, g, redirect, request

from ..state import end_session, start_session
from ..identity import LoginRefused, authenticate
from ..responses import page, respond

blueprint = Blueprint("auth", __name__)
log = logging.getLogger("qdocs.web")

REFUSED = "用户名或口令错误 Wrong user name or passphrase"
LOCKED = "登录失败次数过多，请稍后再试 Too many failed log-ins: try again later"


@page(blueprint, "/login")
def login() -> Any:
    if g.session is None:
        start_session(g.web.sessions.new())
    return respond("login.html", {"csrf_token": g.session.csrf, "next": _next()})


@blueprint.post("/login")
def login_post() -> Any:
    web = g.web
    name = (request.form.get("user") or "").strip()
    passphrase = request.form.get("passphrase") or ""
    address = request.remote_addr
    if web.lockout.locked(name, address):
        log.warning("log-in of %r from %s refused: locked out", name, address)
        return respond("login.html", {"error": LOCKED, "next": _next(), "user": name}, 429)
    try:
        identity = authenticate(web.workspace.reader(), name, passphrase, web.workspace.keys_home)
    except LoginRefused as refused:
        web.lockout.failed(name, address)
        log.warning("log-in of %r from %s refused: %s", name, address, refused.__cause__ or refused)
        return respond("login.html", {"error": REFUSED, "next": _next(), "user": name}, 401)
    web.lockout.succeeded(name, address)
    start_session(web.sessions.rotate(g.session, identity.name))
    return redirect(_next(), 303)


@blueprint.post("/logout")
def logout() -> Any:
    end_session()
    return redirect("/login", 303)


def _next() -> str:
    """Where to go after logging in: a path of this site only (never another host)."""
    target = request.values.get("next") or "/"
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
