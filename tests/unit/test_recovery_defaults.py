"""The default reliability settings keep a killed worker's task lost for under two minutes."""

from __future__ import annotations

from resumeflow.bootstrap.settings import Settings


def test_a_task_lost_with_its_worker_is_handed_out_again_within_two_minutes_by_default() -> None:
    workers = Settings(redis_url="redis://127.0.0.1:1/0").workers
    # kombu hands out an unacked message once it is visibility_timeout old, looking every
    # unacked_restore_seconds: the worst case is their sum (the workers runbook)
    assert workers.visibility_timeout + workers.unacked_restore_seconds <= 120
    # a Textract poll waits its countdown unacked, inside the same bound
    assert workers.textract_poll_seconds < workers.visibility_timeout


def test_every_wait_inside_a_stage_run_ends_before_its_timeout_and_the_task_limits() -> None:
    s = Settings(redis_url="redis://127.0.0.1:1/0")
    w = s.workers
    assert w.gemini_timeout_seconds * w.gemini_http_attempts < w.stage_timeout_seconds
    assert w.stage_timeout_seconds < w.task_soft_time_limit < w.task_time_limit
    longest_countdown = max(s.retry_max_seconds, w.textract_poll_seconds, w.lost_task_retry_seconds)
    assert w.task_time_limit + longest_countdown < w.visibility_timeout
