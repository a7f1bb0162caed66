"""End-to-end: the API (and the workers, the projector) as processes, called over HTTP."""
