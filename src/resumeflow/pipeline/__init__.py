"""Use cases: submit an application, run one stage, retry, replay. Transport-agnostic: the
embedded runner and the Celery tasks call these same functions."""
