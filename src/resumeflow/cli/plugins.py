"""Commands other installed packages add to ``resumeflow`` (entry point group
``resumeflow.commands``: a name and a Typer app). The developer tools (``resumeflow bench``,
from the ``resumeflow-dev`` package in ``dev/``) come this way, so the runtime package carries
no benchmark code and a production install has no ``bench`` command."""

from __future__ import annotations

import sys
from importlib.metadata import entry_points

import typer

__all__ = ["GROUP", "register"]

GROUP = "resumeflow.commands"


def register(app: typer.Typer) -> None:
    """Add every installed plugin's commands; one that fails to load is skipped with a warning
    (a broken developer tool must not take the production commands down with it)."""
    for entry in entry_points(group=GROUP):
        try:
            command = entry.load()
        except Exception as error:
            print(f"resumeflow: plugin {entry.value!r} not loaded: {error}", file=sys.stderr)
            continue
        if isinstance(command, typer.Typer):
            app.add_typer(command, name=entry.name)
