"""The ``resumeflow`` command line."""

from resumeflow.cli.app import app, main

__all__ = ["app", "main"]
