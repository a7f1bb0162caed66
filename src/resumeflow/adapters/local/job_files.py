"""Job post files: plain text, documents (PDF, DOCX...) and schema.org JobPosting JSON-LD.

A JSON file is read as JSON-LD: one JobPosting object, a list of them, an ``@graph``, or the
wrapper records of the shared examples (``{"jsonld": {...}}``); the first posting with a title
is taken. Its title, description (HTML stripped), skills, qualifications, responsibilities and
experience requirements make the post's text; ``monthsOfExperience`` gives the years.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any
from uuid import UUID

from resumeflow.adapters.local.extraction import extract_document
from resumeflow.adapters.local.jobs import job_post_from_text
from resumeflow.domain.documents import DocumentFormat, sniff_format
from resumeflow.domain.errors import UploadRejected
from resumeflow.domain.jobs import JobPost

__all__ = ["job_post_from_file_bytes", "job_post_from_json_ld"]

_TEXT_FIELDS = (
    ("description", None),
    ("responsibilities", "Responsibilities"),
    ("qualifications", "Requirements"),
    ("skills", "Requirements"),
    ("educationRequirements", "Education"),
    ("experienceRequirements", "Requirements"),
)


def job_post_from_file_bytes(data: bytes, *, job_post_id: UUID, name: str) -> JobPost:
    """A job post from a file's bytes; raises UploadRejected with a reason a person can act on."""
    if not data.strip():
        raise UploadRejected("empty_file", f"{name} is empty")
    fmt = sniff_format(data)
    if fmt is DocumentFormat.TEXT and data.lstrip()[:1] in (b"{", b"["):
        try:
            document = json.loads(data)
        except ValueError as error:
            raise UploadRejected("unreadable", f"{name} is not valid JSON: {error}") from error
        return job_post_from_json_ld(document, job_post_id=job_post_id, name=name)
    if fmt is None:
        raise UploadRejected("unsupported_format", f"{name} is not a document we can read")
    is_text = fmt is DocumentFormat.TEXT
    text = data.decode("utf-8") if is_text else extract_document(data, fmt).text
    return job_post_from_text(text, job_post_id=job_post_id)


def _postings(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, list):
        return [p for item in node for p in _postings(item)]
    if not isinstance(node, dict):
        return []
    if "jsonld" in node:
        return _postings(node["jsonld"])
    if "@graph" in node:
        return _postings(node["@graph"])
    kind = node.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return [node] if "JobPosting" in kinds else []


def _plain(value: Any) -> str:
    """Text of a JSON-LD value: strings (HTML stripped), lists, or objects' names/descriptions."""
    if isinstance(value, list):
        return "\n".join(filter(None, map(_plain, value)))
    if isinstance(value, dict):
        return "\n".join(
            filter(
                None, (_plain(value.get(k)) for k in ("name", "description", "credentialCategory"))
            )
        )
    if not isinstance(value, str):
        return ""
    text = re.sub(r"(?i)<br\s*/?>|</p>|</li>|</h\d>", "\n", value)
    text = re.sub(r"(?i)<li[^>]*>", "\n\u2022 ", text)
    return html.unescape(re.sub(r"<[^>]+>", "", text)).strip()


def job_post_from_json_ld(document: Any, *, job_post_id: UUID, name: str) -> JobPost:
    postings = [p for p in _postings(document) if _plain(p.get("title"))]
    if not postings:
        raise UploadRejected("unsupported_format", f"{name} holds no schema.org JobPosting")
    posting = postings[0]
    title = _plain(posting["title"])
    parts = [title]
    for key, heading in _TEXT_FIELDS:
        text = _plain(posting.get(key))
        if text:
            parts.append(f"{heading}\n{text}" if heading else text)
    job = job_post_from_text("\n\n".join(parts), job_post_id=job_post_id, title=title)
    months = _months(posting.get("experienceRequirements"))
    if months:
        job = job.model_copy(update={"min_years_experience": round(months / 12, 1)})
    return job


def _months(value: Any) -> float | None:
    if isinstance(value, dict) and isinstance(value.get("monthsOfExperience"), int | float):
        return float(value["monthsOfExperience"])
    return None
