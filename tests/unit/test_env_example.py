""".env.example documents every setting, under the name it is read by, with its default."""

from __future__ import annotations

import re
from itertools import pairwise
from typing import Any

from pydantic import SecretStr, TypeAdapter

from tests.conftest import REPO_ROOT, setting_variables

LINES = (REPO_ROOT / ".env.example").read_text().splitlines()
VARIABLE = re.compile(r"^# (RESUMEFLOW_[A-Z0-9_]+)=(.*)$")


def documented() -> dict[str, tuple[str, str]]:
    """Each variable -> (its documented value, the comment line above it)."""
    found: dict[str, tuple[str, str]] = {}
    for above, line in pairwise(LINES):
        if match := VARIABLE.match(line):
            assert match[1] not in found, f"{match[1]} is documented twice"
            found[match[1]] = (match[2], above)
    return found


def test_every_setting_is_documented_and_nothing_else() -> None:
    names, settings = set(documented()), set(setting_variables())
    assert sorted(settings - names) == [], "settings missing from .env.example"
    assert sorted(names - settings) == [], "not settings (a typo, or a removed setting)"


def test_every_variable_has_a_one_line_description_above_it() -> None:
    for name, (_, above) in documented().items():
        assert above.startswith("# "), name
        assert not VARIABLE.match(above), f"{name} has no description"
        assert len(above.split()) >= 4, f"{name}: {above!r} says too little"


def test_every_documented_default_is_the_settings_default() -> None:
    fields = setting_variables()
    for name, (value, _) in documented().items():
        field = fields[name]
        default: Any = None if field.default_factory is not None else field.default
        if default in (None, "") or default == SecretStr(""):
            assert value == "", f"{name} has no default: leave it empty (unset)"
        else:
            assert field.annotation is not None
            parsed = TypeAdapter(field.annotation).validate_python(value)
            assert parsed == default, f"{name}={value} but the default is {default!r}"


def test_lines_read_as_an_operator_copies_them() -> None:
    assert "# RESUMEFLOW_ENVIRONMENT=development" in LINES
    assert "# RESUMEFLOW_EMBEDDED_CONCURRENCY=4" in LINES
    assert "# RESUMEFLOW_VISIBILITY_TIMEOUT=100" in LINES
