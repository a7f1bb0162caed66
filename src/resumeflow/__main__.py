"""``python -m resumeflow``: the same as the ``resumeflow`` command."""

from resumeflow.cli import main

main()
