"""Event stores (SQL, in-memory, Redis Streams), read-model tables and projections."""
