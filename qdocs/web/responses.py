"""Pages and their JSON twins: one handler gives the data; HTML or JSON is chosen here.

A page at ``/records/FIR-S1-2026-0001`` has its twin at ``/records/FIR-S1-2026-0001.json``;
``Accept: application/json`` on the page's own address gives the same.  Both are
registered by :func:`page`, so a new page cannot forget its twin.
"""

from __future__ import annotations

from typing import Any, Callable

from flask import Blueprint, Response, current_app, g, jsonify, render_template, request

JSON_SUFFIX = ".json"


def wants_json() -> bool:
    """A JSON twin was asked for: the ``.json`` address, or JSON preferred by ``Accept``."""
    if request.path.endswith(JSON_SUFFIX):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def page(blueprint: Blueprint, rule: str, **options: Any) -> Callable[[Callable], Callable]:
    """Register a GET page at ``rule`` and its JSON twin at ``rule + '.json'``."""

    def register(function: Callable) -> Callable:
        blueprint.add_url_rule(rule, view_func=function, methods=["GET"], **options)
        blueprint.add_url_rule(rule + JSON_SUFFIX, endpoint=function.__name__ + "_json", view_func=function,
                               methods=["GET"], **options)
        return function

    return register


def respond(template: str, data: dict[str, Any], status: int = 200, **html_only: Any) -> Response | tuple:
    """``data`` as JSON for a twin, else the template rendered with ``data`` and ``html_only``
    (what only the HTML needs: labels, forms, the catalog)."""
    if wants_json():
        response = jsonify(data)
        response.status_code = status
        return response
    return render_template(template, **data, **html_only), status


def problem(message: str, status: int, template: str = "problem.html") -> Response | tuple:
    """A refusal or a failure: JSON ``{"error": ...}`` or a page saying it."""
    if wants_json():
        response = jsonify({"error": message})
        response.status_code = status
        return response
    return render_template(template, message=message, status=status), status


def web() -> Any:
    """The application's state (:class:`qdocs.web.app.Web`)."""
    return current_app.extensions["qdocs"]


def identity() -> Any:
    return g.identity
