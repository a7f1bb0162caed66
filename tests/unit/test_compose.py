"""docker-compose.yml is a valid Compose file whose every command runs on this version.

The schema is the Compose Specification's, vendored as tests/data/compose-spec.json from
github.com/compose-spec/compose-spec, schema/compose-spec.json at commit
a08f8d51631b7127ddac3d2c65537db429d0f1d0 (tests/data/README.md). Commands are checked by
parsing them with the real CLIs (``resumeflow``'s Typer app, Celery's click group) plus
``--help``: an unknown command or option fails; Docker is not needed.
"""

from __future__ import annotations

import json
import shlex
from typing import Any

import click.testing
import jsonschema
import pytest
import typer.testing
import yaml
from celery.bin.celery import celery as celery_cli
from celery.worker.control import Panel

from resumeflow.cli import app as resumeflow_cli
from tests.conftest import REPO_ROOT, setting_variables

SCHEMA = json.loads((REPO_ROOT / "tests" / "data" / "compose-spec.json").read_text())
COMPOSE: dict[str, Any] = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
OURS = {name: s for name, s in SERVICES.items() if s.get("image") == "resumeflow:local"}
INSPECT_COMMANDS = {name for name, meta in Panel.meta.items() if meta.type == "inspect"}


def schema_errors(document: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft7Validator(SCHEMA)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]


def argv_of(command: list[str] | str) -> list[str]:
    """A command as the container runs it (a shell string split as sh would, ``$$`` being
    Compose's escape for ``$``)."""
    return shlex.split(command.replace("$$", "$")) if isinstance(command, str) else command


def cli_errors(argv: list[str]) -> str | None:
    """None when ``argv`` is a real ``resumeflow`` or ``celery`` command; else why not."""
    program, args = argv[0], argv[1:]
    if program == "resumeflow":
        runner = typer.testing.CliRunner()
        result = runner.invoke(resumeflow_cli, [*args, "--help"], prog_name="resumeflow")
        return None if result.exit_code == 0 else result.output
    if program != "celery":
        return f"{program!r} is neither resumeflow nor celery"
    ran = click.testing.CliRunner().invoke(celery_cli, [*args, "--help"], prog_name="celery")
    if ran.exit_code != 0:
        return ran.output
    words = [a for a in args if not a.startswith("-")]
    if words[:1] == ["inspect"] and words[1] not in INSPECT_COMMANDS:
        return f"celery inspect has no {words[1]!r}"
    return None


def test_the_compose_file_is_valid_against_the_compose_specification() -> None:
    assert schema_errors(COMPOSE) == []


def test_the_schema_refuses_a_start_order_condition_that_does_not_exist() -> None:
    broken = json.loads(json.dumps(COMPOSE))
    broken["services"]["api"]["depends_on"]["migrate"]["condition"] = "service_finished"
    errors = schema_errors(broken)
    assert len(errors) == 1
    assert errors[0].startswith("['services', 'api', 'depends_on']")


def test_the_stack_has_every_part_of_the_distributed_mode() -> None:
    assert set(SERVICES) == {
        "redis", "postgres", "jaeger", "migrate", "api", "worker", "projector", "beat", "flower",
    }  # fmt: skip
    assert set(OURS) == {"migrate", "api", "worker", "projector", "beat", "flower"}
    assert OURS["migrate"]["command"] == ["resumeflow", "migrate"]
    assert OURS["migrate"]["restart"] == "no"


@pytest.mark.parametrize("service", sorted(OURS))
def test_every_service_command_is_a_real_command_of_this_version(service: str) -> None:
    assert cli_errors(argv_of(OURS[service]["command"])) is None


@pytest.mark.parametrize("service", sorted(name for name, s in OURS.items() if "healthcheck" in s))
def test_every_health_check_of_ours_is_a_real_command_or_python_that_compiles(
    service: str,
) -> None:
    kind, *command = SERVICES[service]["healthcheck"]["test"]
    argv = argv_of(command[0]) if kind == "CMD-SHELL" else command
    if argv[0] == "python":
        assert argv[1] == "-c"
        compile(argv[2], f"{service} healthcheck", "exec")
    else:
        assert cli_errors(argv) is None


def test_the_command_check_fails_on_an_unknown_option_subcommand_or_program() -> None:
    assert cli_errors(["resumeflow", "worker", "--no-such-option"]) is not None
    assert cli_errors(["resumeflow", "no-such-command"]) is not None
    assert cli_errors(["celery", "--app=resumeflow.tasks", "no-such-command"]) is not None
    assert cli_errors(["celery", "--app=resumeflow.tasks", "inspect", "no_such_thing"]) is not None
    assert cli_errors(["gunicorn", "app"]) is not None


def test_every_resumeflow_variable_in_the_compose_file_is_a_setting() -> None:
    known = set(setting_variables())
    for name, service in OURS.items():
        named = {v for v in service["environment"] if v.startswith("RESUMEFLOW_")}
        assert named <= known, f"{name}: {sorted(named - known)} are not settings"


def test_every_process_traces_to_jaeger_under_its_own_service_name() -> None:
    names = []
    for service in OURS.values():
        env = service["environment"]
        assert env["OTEL_TRACES_EXPORTER"] == "otlp"
        assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://jaeger:4318"
        assert env["RESUMEFLOW_TRACE_URL"] == "http://localhost:16686/trace/{trace_id}"
        names.append(env["OTEL_SERVICE_NAME"])
    assert sorted(names) == [
        "resumeflow-api", "resumeflow-beat", "resumeflow-flower", "resumeflow-migrate",
        "resumeflow-projector", "resumeflow-worker",
    ]  # fmt: skip


def test_redis_keeps_every_write_and_evicts_nothing() -> None:
    command = " ".join(SERVICES["redis"]["command"])
    assert "--appendonly yes" in command
    assert "--appendfsync everysec" in command
    assert "--maxmemory-policy noeviction" in command
    assert SERVICES["redis"]["volumes"] == ["redis:/data"]


def test_the_processes_start_after_the_migration_and_healthy_servers() -> None:
    after = {
        "migrate": "service_completed_successfully",
        "redis": "service_healthy",
        "postgres": "service_healthy",
        "jaeger": "service_healthy",
    }
    for name in ("api", "worker", "projector"):
        conditions = {k: v["condition"] for k, v in OURS[name]["depends_on"].items()}
        assert conditions == after
    assert OURS["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert all("healthcheck" in SERVICES[name] for name in after if name != "migrate")
