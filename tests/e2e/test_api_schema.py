"""Schemathesis against the served OpenAPI document: every operation, with an operator's key,
gives no 5xx and no answer the document does not describe."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from tests.e2e.harness import ApiProcess, base_env

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]
"""No 5xx, and every answer one the document describes. Not the checks of business rules a
schema cannot say (a PNG of an empty page is schema-valid and still refused with a 415)."""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ApiProcess, str]]:
    data = tmp_path_factory.mktemp("schema")
    process = ApiProcess(base_env(data, RESUMEFLOW_STREAM_MAX_SECONDS="2"), data / "api.log")
    process.start()
    try:
        keys = process.make_keys()
        with httpx.Client(base_url=process.url) as http:  # something to find under the ids
            http.post(
                "/v1/job-posts",
                json={"title": "Backend Engineer", "description": "Python and PostgreSQL"},
                headers=keys.auth(keys.operator),
            ).raise_for_status()
        yield process, keys.operator
    finally:
        process.stop()


def test_every_operation_answers_as_documented(served: tuple[ApiProcess, str]) -> None:
    """Each operation of the served document, fed what its schema allows (Hypothesis, up to 30
    cases each): every answer is one the document describes, and none is a 5xx."""
    process, key = served
    schema = schemathesis.openapi.from_url(f"{process.url}/openapi.json")
    failures: dict[str, str] = {}
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # an Err (a broken schema) fails here
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=30,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: schemathesis.Case[Any]) -> None:
            case.call_and_validate(
                headers={"Authorization": f"Bearer {key}"}, checks=CHECKS, timeout=30
            )

        try:
            check()
        except Exception as failure:  # collected: one report names every operation that failed
            failures[operation.label] = f"{type(failure).__name__}: {failure}"[:2000]
    assert operations >= 14
    assert failures == {}
