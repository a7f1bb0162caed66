"""What the CLI reports about an application, as plain data (the JSON form) and as Rich output."""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from resumeflow.bootstrap.telemetry import trace_id_of, trace_link
from resumeflow.domain.application import ApplicationState, Status
from resumeflow.domain.events import EventEnvelope, TextExtracted

__all__ = [
    "history_record",
    "page_methods",
    "print_history",
    "print_ranking",
    "print_result",
    "result_record",
    "state_summary",
    "stdout_console",
]

PIPE_WIDTH = 240


def stdout_console() -> Console:
    """Rich on a terminal; piped, a console wide enough that no id or event type is cut."""
    console = Console()
    return console if console.is_terminal else Console(width=PIPE_WIDTH, no_color=True)


def result_record(
    file: str,
    state: ApplicationState | None,
    *,
    rejected: str | None = None,
    detail: str | None = None,
    elapsed: float | None = None,
) -> dict[str, Any]:
    if state is None:
        return {
            "file": file,
            "application_id": None,
            "status": "rejected",
            "failure_reason": rejected,
            "failure_detail": detail,
            "parsed": None,
            "json_resume": None,
            "score": None,
            "score_breakdown": None,
            "elapsed_seconds": elapsed,
        }
    resume = state.resume
    return {
        "file": file,
        "application_id": str(state.application_id),
        "status": state.status.value,
        "failure_reason": state.failure_reason,
        "failure_detail": state.failure_detail,
        "failure_stage": state.failure_stage.value if state.failure_stage else None,
        "format": state.format.value,
        "pages": state.page_count,
        "ocr_pages": state.ocr_pages,
        "parsed": resume.model_dump(mode="json") if resume else None,
        "json_resume": resume.to_json_resume() if resume else None,
        "score": state.score.total if state.score else None,
        "score_breakdown": state.score.model_dump(mode="json") if state.score else None,
        "embedding_model": state.embedding_model,
        "elapsed_seconds": elapsed,
    }


def print_result(console: Console, record: dict[str, Any]) -> None:
    status = record["status"]
    ok = status == Status.COMPLETED.value
    title = f"{record['file']}  [{'green' if ok else 'red'}]{status}[/]"
    if not ok:
        body = Text(
            f"{record['failure_reason']}: {record.get('failure_detail') or ''}".rstrip(": ")
        )
        console.print(Panel(body, title=title, subtitle=record["application_id"] or ""))
        return
    parsed = record["parsed"] or {}
    provenance = parsed.get("provenance") or {}
    fields = Table.grid(padding=(0, 2))
    for label, key in (
        ("name", "name"),
        ("email", "email"),
        ("phone", "phone"),
        ("location", "location"),
    ):
        fields.add_row(label, str(parsed.get(key) or "-"), _source(provenance.get(key)))
    fields.add_row("skills", ", ".join(parsed.get("skills") or []) or "-")
    fields.add_row(
        "work",
        "; ".join(
            " @ ".join(filter(None, (w.get("title"), w.get("employer"))))
            for w in parsed.get("work", [])
        )
        or "-",
    )
    breakdown = record["score_breakdown"]
    score = Table.grid(padding=(0, 2))
    score.add_row("[bold]score[/]", f"[bold]{breakdown['total']:.1f}[/] / 100")
    score.add_row("similarity", f"{breakdown['similarity']:.2f}")
    score.add_row("skill coverage", f"{breakdown['skill_coverage']:.0%}")
    score.add_row(
        "experience",
        f"{breakdown['years_experience']:g} y (asked {breakdown['required_years']:g} y)",
    )
    score.add_row("[green]matched[/]", ", ".join(breakdown["matched_skills"]) or "-")
    score.add_row("[red]missing[/]", ", ".join(breakdown["missing_skills"]) or "-")
    console.print(
        Panel(Group(fields, Text(""), score), title=title, subtitle=record["application_id"])
    )


def _source(provenance: dict[str, Any] | None) -> str:
    """Where a field was read: "p1 ocr 0.87"; "-" when it was not."""
    if not provenance:
        return ""
    page = f"p{provenance['page']}" if provenance.get("page") else "p?"
    return f"[dim]{page} {provenance['method']} {provenance['confidence']:.2f}[/]"


def state_summary(state: ApplicationState) -> dict[str, Any]:
    """The state without its bulky parts (text, vector), which are summarised by size."""
    data = state.model_dump(mode="json", exclude={"text", "embedding", "resume", "score"})
    data["text_chars"] = len(state.text) if state.text is not None else None
    data["embedding_dimension"] = len(state.embedding) if state.embedding is not None else None
    data["parsed_name"] = state.resume.name if state.resume else None
    data["score"] = state.score.total if state.score else None
    return data


def history_record(
    event: EventEnvelope, state: ApplicationState, trace_url: str | None = None
) -> dict[str, Any]:
    trace = trace_id_of(event.traceparent)
    return {
        "version": event.version,
        "type": event.type,
        "event_id": str(event.event_id),
        "occurred_at": event.occurred_at.isoformat(),
        "causation_id": str(event.causation_id) if event.causation_id else None,
        "traceparent": event.traceparent,
        "trace_id": trace,
        "trace_link": trace_link(trace, trace_url),
        "payload": _short(event.payload.model_dump(mode="json")),
        "state": state_summary(state),
    }


def _short(payload: dict[str, Any]) -> dict[str, Any]:
    out = dict(payload)
    if isinstance(out.get("text"), str) and len(out["text"]) > 200:
        out["text"] = out["text"][:200] + f"... ({len(payload['text'])} chars)"
    if isinstance(out.get("vector"), list):
        out["vector"] = f"[{len(out['vector'])} floats]"
    return out


def page_methods(extracted: TextExtracted) -> str:
    """How each page was read, for a person: "hybrid: p1 text layer, p2 ocr 0.91"."""
    pages = ", ".join(
        f"p{page.number} {page.source.value.replace('_', ' ')}"
        + (f" {page.confidence:.2f}" if page.confidence is not None else "")
        for page in extracted.pages
    )
    return f"{extracted.extractor}: {pages}"


def print_history(
    console: Console,
    steps: list[tuple[EventEnvelope, ApplicationState]],
    trace_url: str | None = None,
) -> None:
    table = Table(title=f"application {steps[0][0].application_id}")
    for column in ("v", "event", "at (UTC)", "status", "next", "attempts", "note", "trace"):
        table.add_column(column, overflow="fold")
    for event, state in steps:
        note = state.last_error or (
            f"{state.failure_reason}: {state.failure_detail}" if state.failure_reason else ""
        )
        if state.score and event.type == "application.scored":
            note = f"score {state.score.total:.1f}"
        if state.resume and event.type == "application.parsed":
            name = state.resume.provenance.get("name")
            where = f" (p{name.page or '?'} {name.method} {name.confidence:.2f})" if name else ""
            note = f"{state.resume.name or 'no name'}{where}; {len(state.resume.work)} jobs"
        if isinstance(event.payload, TextExtracted):
            note = page_methods(event.payload)
        if event.type == "application.retried":
            reason = getattr(event.payload, "reason", "")
            note = f"retried by {getattr(event.payload, 'requested_by', 'operator')}" + (
                f": {reason}" if reason else ""
            )
        table.add_row(
            str(event.version),
            event.type,
            event.occurred_at.strftime("%H:%M:%S.%f")[:-3],
            state.status.value,
            state.next_stage.value if state.next_stage else "-",
            str(state.attempts),
            note,
            trace_id_of(event.traceparent) or "-",
        )
    console.print(table)
    traces = dict.fromkeys(t for e, _ in steps if (t := trace_id_of(e.traceparent)))
    for trace in traces:
        link = trace_link(trace, trace_url)
        if link:
            console.print(f"trace {trace}: {link}")


def print_ranking(console: Console, job_title: str, records: list[dict[str, Any]]) -> None:
    """Applications best first, each with the parts of its score."""
    table = Table(title=f"ranking for {job_title}")
    for column in (
        "#",
        "file",
        "score",
        "similarity",
        "skills",
        "experience",
        "matched",
        "missing",
    ):
        table.add_column(column, overflow="fold")
    for place, record in enumerate(records, start=1):
        breakdown = record.get("score_breakdown")
        if breakdown is None:
            reason = record.get("failure_reason") or record["status"]
            table.add_row(str(place), record["file"], "-", "", "", "", "", reason)
            continue
        table.add_row(
            str(place),
            record["file"],
            f"{breakdown['total']:.1f}",
            f"{breakdown['similarity']:.2f}",
            f"{breakdown['skill_coverage']:.0%}",
            f"{breakdown['years_experience']:g}/{breakdown['required_years']:g} y",
            ", ".join(breakdown["matched_skills"]) or "-",
            ", ".join(breakdown["missing_skills"]) or "-",
        )
    console.print(table)
