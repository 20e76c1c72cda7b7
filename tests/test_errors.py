"""One error shape, and one table from library errors to HTTP statuses (lod.web.errors)."""

from __future__ import annotations

import pytest

from lod import errors
from lod.web.errors import STATUSES


def _leaves(cls: type) -> set[type]:
    found = {cls}
    for sub in cls.__subclasses__():
        found |= _leaves(sub)
    return found


REQUEST_ERRORS = sorted(
    _leaves(errors.QueryError) | {errors.NoBuild, errors.NotPublished}, key=lambda c: c.__name__
)
EXPECTED = {
    "QuerySyntaxError": 400,
    "QueryRefused": 400,
    "BadSearch": 400,
    "EngineRefusedQuery": 400,
    "QueryError": 400,
    "TooManyQueries": 429,
    "EngineError": 502,
    "QueryTimeout": 503,
    "QueryTooLarge": 503,
    "StoreUnavailable": 503,
    "NoBuild": 503,
    "NotPublished": 503,
}


def _raising(app, error: Exception) -> str:
    path = f"/_raise/{type(error).__name__}"

    def view():
        raise error

    app.add_url_rule(path, endpoint=path, view_func=view)
    return path


def test_every_error_a_request_may_raise_has_a_status():
    assert {cls.__name__ for cls in REQUEST_ERRORS} == set(EXPECTED)
    for cls in REQUEST_ERRORS:
        assert cls in STATUSES, cls


@pytest.mark.parametrize("cls", REQUEST_ERRORS, ids=lambda c: c.__name__)
def test_each_library_error_answers_its_status_in_the_one_shape(app, client, cls):
    error = cls("what went wrong") if cls is not errors.NoBuild else cls("dist")
    response = client.get(_raising(app, error))
    assert response.status_code == EXPECTED[cls.__name__]
    body = response.get_json()["error"]
    assert body["status"] == response.status_code
    assert body["title"] == STATUSES[cls][1]
    assert body["message"] == str(error)
    assert response.headers["Cache-Control"] == "no-store"
    if hasattr(error, "retry_after"):
        assert response.headers["Retry-After"] == str(error.retry_after)
    else:
        assert "Retry-After" not in response.headers


def test_a_library_error_outside_the_table_is_a_logged_500(app, client, caplog):
    response = client.get(_raising(app, errors.ConfigError("LOD_X is broken")))
    assert response.status_code == 500
    assert "LOD_X" not in response.get_data(as_text=True)  # nothing internal is shown
    assert "LOD_X is broken" in caplog.text


def test_an_unexpected_exception_is_a_500_without_a_trace(app, client, caplog):
    response = client.get(_raising(app, KeyError("secret")), headers={"Accept": "text/html"})
    assert response.status_code == 500
    text = response.get_data(as_text=True)
    assert "secret" not in text and "Traceback" not in text
    assert response.mimetype == "text/html"
    assert "secret" in caplog.text
