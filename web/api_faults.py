"""Fault rules over REST (``/api/v1/faults``, our extension) and Mailpit's ``/api/v1/chaos``.

Rules travel in the JSON form of :meth:`~mailtrap_lite.faults.Rule.to_dict` (the one fault model the CLI, Python,
the UI and the pytest plugin's remote mode share); ``{"rule": "data:451:times=2"}`` takes the CLI syntax.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from mailtrap_lite.faults import FaultEngine, FaultError, rule_from_dict
from mailtrap_lite.web.errors import ApiError, not_found, text_response
from mailtrap_lite.web.inputs import json_body
from mailtrap_lite.web.lookup import mail_server

api_faults = Blueprint("api_faults", __name__)


def _engine() -> FaultEngine:
    return mail_server().fault_engine


@api_faults.get("/api/v1/faults")
def list_faults() -> Response:
    """The rules in evaluation order, with how often each matched and fired."""
    return jsonify([rule.to_dict() for rule in _engine().rules()])


@api_faults.post("/api/v1/faults")
def add_fault() -> Response:
    """Append one rule; answers with the rule as stored (its id included)."""
    fields = {key.lower(): value for key, value in json_body().items()}
    try:
        rule = _engine().add(rule_from_dict(fields))
    except FaultError as error:
        raise ApiError(str(error)) from None
    return jsonify(rule.to_dict())


@api_faults.delete("/api/v1/faults")
def clear_faults() -> Response:
    """Remove every rule."""
    _engine().clear()
    return text_response("ok")


@api_faults.delete("/api/v1/faults/<rule_id>")
def remove_fault(rule_id: str) -> Response:
    """Remove one rule by id."""
    if not _engine().remove(rule_id):
        raise not_found()
    return text_response("ok")


def _chaos_engine() -> FaultEngine:
    engine = _engine()
    if not engine.chaos_enabled:
        raise ApiError("Chaos is not enabled")
    return engine


@api_faults.get("/api/v1/chaos")
def get_chaos() -> Response:
    """Mailpit's chaos triggers (400 unless the server was started with ``--chaos``)."""
    return jsonify(_chaos_engine().chaos())


@api_faults.put("/api/v1/chaos")
def set_chaos() -> Response:
    """Replace the chaos triggers; those left out reset to probability 0. Answers with the new triggers."""
    engine = _chaos_engine()
    try:
        return jsonify(engine.set_chaos(dict(json_body().items())))
    except FaultError as error:
        raise ApiError(error.problem) from None
