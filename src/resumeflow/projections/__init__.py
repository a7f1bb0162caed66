"""The read side: projections (events -> row changes), a writer per backend, the FastStream
projector, rebuilds, and the read-model queries and status."""
