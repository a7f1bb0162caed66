"""The read models every mode keeps: the one list a new projection is added to.

The embedded mode runs them inside each append, the projector's ``projection.read_models`` group
writes them together per delivery, and ``projections rebuild`` rebuilds them from the archive.
"""

from __future__ import annotations

from resumeflow.projections.applications import ApplicationsProjection
from resumeflow.projections.model import Projection
from resumeflow.projections.stage_timings import StageTimingsProjection

__all__ = ["read_models"]


def read_models(*, cache_size: int = 0) -> list[Projection]:
    """Fresh instances (each keeps its own cache of ``cache_size`` applications)."""
    return [
        ApplicationsProjection(cache_size=cache_size),
        StageTimingsProjection(cache_size=cache_size),
    ]
