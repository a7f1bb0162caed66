"""Production refuses the examples' secrets, naming the variable; development takes them."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from resumeflow.bootstrap.settings import Settings

COMPOSE_DEFAULT = "postgresql+asyncpg://resumeflow:resumeflow@postgres:5432/resumeflow"


@pytest.mark.parametrize(
    ("overrides", "variable"),
    [
        ({"database_url": COMPOSE_DEFAULT}, "RESUMEFLOW_DATABASE_URL"),
        ({"redis_url": "redis://:changeme@redis:6379/0"}, "RESUMEFLOW_REDIS_URL"),
        ({"broker_url": "redis://default:Password@redis:6379/1"}, "RESUMEFLOW_BROKER_URL"),
    ],
)
def test_production_refuses_a_placeholder_secret(overrides: dict[str, str], variable: str) -> None:
    with pytest.raises(ValidationError, match=variable):
        Settings.model_validate({"environment": "production", **overrides})


def test_production_takes_real_secrets_and_development_takes_the_placeholders() -> None:
    real = "postgresql+asyncpg://resumeflow:Vq8-3hT_real@postgres:5432/resumeflow"
    assert Settings(environment="production", database_url=real).database_url == real
    assert Settings(database_url=COMPOSE_DEFAULT).environment == "development"
    no_password = "postgresql+asyncpg://resumeflow@postgres/resumeflow"  # peer or cert auth
    assert Settings(environment="production", database_url=no_password).mode == "embedded"
