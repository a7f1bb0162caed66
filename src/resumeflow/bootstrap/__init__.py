"""The composition root: the only place that builds engines, clients, stores and adapters.

One module per way of running: ``embedded`` (one process, no servers), and the distributed
pieces (workers, projectors, API) beside it. Nothing connects at import time.
"""
