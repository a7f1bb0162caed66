"""The relational schema (one MetaData), engines, Alembic migrations shipped in the package,
and the job posts repository."""
