"""The ``resumeflow`` command as a user runs it: a subprocess on real files, no servers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.conftest import REPO_ROOT, needs_shared, shared_resumes

EXAMPLES = REPO_ROOT / "examples"
JOB = EXAMPLES / "job-backend-engineer.txt"


def resumeflow(*args: str | Path, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"RESUMEFLOW_DATA_DIR": str(data_dir), "COLUMNS": "120"}
    return subprocess.run(
        [sys.executable, "-m", "resumeflow", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )


def records(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def test_the_example_resume_is_processed_and_its_history_replayed(tmp_path: Path) -> None:
    done = resumeflow("process", EXAMPLES / "resume.pdf", "--job", JOB, "--json", data_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    [record] = records(done.stdout)
    assert record["status"] == "completed"
    assert record["parsed"]["name"] == "Maya Okafor"
    assert record["parsed"]["email"] == "maya.okafor@example.com"
    assert "Python" in record["parsed"]["skills"]
    breakdown = record["score_breakdown"]
    assert "Kafka" in breakdown["missing_skills"] and "PostgreSQL" in breakdown["matched_skills"]
    assert 0 < record["score"] <= 100
    assert record["json_resume"]["basics"]["name"] == "Maya Okafor"

    history = resumeflow("history", record["application_id"], "--json", data_dir=tmp_path)
    assert history.returncode == 0, history.stderr
    steps = json.loads(history.stdout)
    assert [s["state"]["status"] for s in steps] == [
        "received",
        "stored",
        "text_extracted",
        "parsed",
        "embedded",
        "scored",
        "completed",
    ]
    assert [s["version"] for s in steps] == list(range(1, 8))
    extracted = steps[2]["payload"]
    assert [(p["number"], p["source"]) for p in extracted["pages"]] == [(1, "text_layer")]

    table = resumeflow("history", record["application_id"], data_dir=tmp_path)
    assert table.returncode == 0 and "application.completed" in table.stdout
    assert "local: p1 text layer" in table.stdout  # how each page was read


def test_bad_inputs_get_a_reason_and_a_non_zero_exit(tmp_path: Path) -> None:
    binary = tmp_path / "photo.pdf"
    binary.write_bytes(b"\x00\x01\x02 not a document")
    encrypted = tmp_path / "locked.pdf"
    encrypted.write_bytes(_encrypted_pdf())
    done = resumeflow(
        "process",
        binary,
        encrypted,
        EXAMPLES / "resume.pdf",
        "--job",
        JOB,
        "--json",
        data_dir=tmp_path / "data",
    )
    assert done.returncode == 1
    by_file = {r["file"]: r for r in records(done.stdout)}
    assert (by_file["photo.pdf"]["status"], by_file["photo.pdf"]["failure_reason"]) == (
        "rejected",
        "unsupported_format",
    )
    assert (by_file["locked.pdf"]["status"], by_file["locked.pdf"]["failure_reason"]) == (
        "failed",
        "password_protected",
    )
    assert by_file["resume.pdf"]["status"] == "completed"
    assert "2 of 3 applications did not complete" in done.stderr


def test_usage_errors_are_readable(tmp_path: Path) -> None:
    missing = resumeflow("process", tmp_path / "nope.pdf", "--job", JOB, data_dir=tmp_path)
    assert missing.returncode == 2 and "nope.pdf: no such file" in missing.stderr
    unknown = resumeflow("history", "0190f2a4-0000-7000-8000-000000000000", data_dir=tmp_path)
    assert unknown.returncode == 1 and "no application" in unknown.stderr
    garbage = resumeflow("history", "not-an-id", data_dir=tmp_path)
    assert garbage.returncode == 2 and "not an application id" in garbage.stderr


@needs_shared
@pytest.mark.slow
def test_every_shared_resume_completes_with_a_valid_json_resume(tmp_path: Path) -> None:
    from tests.conftest import EXTERNAL

    assert EXTERNAL is not None
    schema = json.loads((EXTERNAL / "schema" / "jsonresume__schema.json").read_text())
    job = EXTERNAL / "jobs" / "resume-matcher__jd_backend-eng.txt"
    done = resumeflow("process", *shared_resumes(), "--job", job, "--json", data_dir=tmp_path)
    results = records(done.stdout)
    assert len(results) == len(shared_resumes())
    assert done.returncode == 0, [(r["file"], r["failure_reason"]) for r in results]
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    for result in results:
        errors = [e.message for e in validator.iter_errors(result["json_resume"])]
        assert not errors, (result["file"], errors)
    [scan] = [r for r in results if r["file"].endswith(".png")]
    name = scan["parsed"]["provenance"]["name"]
    assert (name["page"], name["method"]) == (1, "ocr") and 0.5 < name["confidence"] < 1


def _encrypted_pdf() -> bytes:
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.encrypt(user_password="secret", owner_password="owner")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def test_the_cli_says_what_went_wrong_in_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    directory = resumeflow("process", folder, "--job", JOB, data_dir=tmp_path)
    assert directory.returncode == 2 and "folder: is a directory" in directory.stderr
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    no_job = resumeflow("process", EXAMPLES / "resume.pdf", "--job", empty, data_dir=tmp_path)
    assert no_job.returncode == 2 and "empty.txt is empty" in no_job.stderr
    assert "unsupported_format" not in no_job.stderr
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4\n1 0 obj\n<< >>\nendobj\n")
    fake = tmp_path / "fake.png"
    fake.write_bytes(b"hello\n")
    done = resumeflow("process", broken, fake, "--job", JOB, "--json", data_dir=tmp_path / "data")
    assert done.returncode == 1
    by_file = {r["file"]: r for r in records(done.stdout)}
    assert by_file["fake.png"]["failure_reason"] == "format_mismatch"
    assert "format_mismatch" not in (by_file["fake.png"]["failure_detail"] or "")
    assert by_file["broken.pdf"]["status"] == "failed"
    assert "EOF marker" not in done.stderr and "Traceback" not in done.stderr


def test_rank_applications_and_a_named_applicant(tmp_path: Path) -> None:
    done = resumeflow(
        "process",
        EXAMPLES / "resume.pdf",
        "--job",
        JOB,
        "--name",
        "Maya Okafor",
        "--email",
        "maya@example.com",
        "--json",
        data_dir=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    [record] = records(done.stdout)
    assert record["parsed"]["provenance"]["name"] == {"page": 1, "method": "text", "confidence": 1}
    listed = resumeflow("applications", "--email", "maya@example.com", "--json", data_dir=tmp_path)
    [row] = json.loads(listed.stdout)
    assert (row["name"], row["status"]) == ("Maya Okafor", "completed")
    table = resumeflow("applications", data_dir=tmp_path)
    assert row["application_id"] in table.stdout  # piped: the id is printed whole
    history = resumeflow("history", row["application_id"], data_dir=tmp_path)
    assert "application.text_extracted" in history.stdout
    assert "Maya Okafor (p1 text 1.00)" in history.stdout  # the parsed event's provenance
    ranked = resumeflow("rank", "--job", JOB, EXAMPLES / "resume.pdf", "--json", data_dir=tmp_path)
    assert ranked.returncode == 0
    assert json.loads(ranked.stdout)["ranking"][0]["score_breakdown"]["matched_skills"]
