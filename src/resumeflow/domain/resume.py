"""The structured resume and its rendering as a JSON Resume document (jsonresume.org schema 1.0)."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "EducationEntry",
    "FieldProvenance",
    "Link",
    "ParsedResume",
    "WorkEntry",
    "iso_partial_date",
]

_ISO_PARTIAL = re.compile(r"^[1-2][0-9]{3}(-[0-1][0-9](-[0-3][0-9])?)?$")


def iso_partial_date(value: str | None) -> str | None:
    """``value`` if it is a JSON Resume date (YYYY, YYYY-MM or YYYY-MM-DD), else None."""
    if value and _ISO_PARTIAL.match(value):
        return value
    return None


class Link(BaseModel):
    model_config = ConfigDict(frozen=True)

    url: str
    network: str | None = None


class WorkEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    title: str | None = None
    employer: str | None = None
    start: str | None = Field(default=None, description="YYYY, YYYY-MM or YYYY-MM-DD")
    end: str | None = Field(default=None, description="as start; None while current")
    current: bool = False
    summary: str | None = None


class EducationEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    institution: str | None = None
    area: str | None = None
    study_type: str | None = None
    start: str | None = None
    end: str | None = None


class FieldProvenance(BaseModel):
    """Where a parsed value was read: its page (None when no page shows it as written), how
    that page's text was obtained, and how far to trust it (0..1)."""

    model_config = ConfigDict(frozen=True)

    page: int | None
    method: Literal["text", "ocr"]
    confidence: float = Field(ge=0, le=1)


class ParsedResume(BaseModel):
    """A resume as structured data. Every field is optional: parsers fill what they find.

    ``provenance`` maps a field ("name", "skills[2]", "work[0]"...) to where it was read; it is
    filled by the pipeline after parsing, and empty in resumes parsed before it existed.
    """

    model_config = ConfigDict(frozen=True)

    name: str | None = None
    email: str | None = None
    phone: str | None = None
    location: str | None = None
    links: tuple[Link, ...] = ()
    summary: str | None = None
    skills: tuple[str, ...] = ()
    work: tuple[WorkEntry, ...] = ()
    education: tuple[EducationEntry, ...] = ()
    provenance: dict[str, FieldProvenance] = Field(default_factory=dict)

    def to_json_resume(self) -> dict[str, Any]:
        """Render as a JSON Resume document; absent values are left out, never emitted as null."""
        basics: dict[str, Any] = _compact(
            {
                "name": self.name,
                "email": self.email,
                "phone": self.phone,
                "summary": self.summary,
                "location": {"address": self.location} if self.location else None,
            }
        )
        profiles = [_compact({"network": link.network, "url": link.url}) for link in self.links]
        if profiles:
            basics["profiles"] = profiles
        document: dict[str, Any] = {"basics": basics}
        work = [
            _compact(
                {
                    "name": entry.employer,
                    "position": entry.title,
                    "startDate": iso_partial_date(entry.start),
                    "endDate": iso_partial_date(entry.end),
                    "summary": entry.summary,
                }
            )
            for entry in self.work
        ]
        if work:
            document["work"] = work
        education = [
            _compact(
                {
                    "institution": entry.institution,
                    "area": entry.area,
                    "studyType": entry.study_type,
                    "startDate": iso_partial_date(entry.start),
                    "endDate": iso_partial_date(entry.end),
                }
            )
            for entry in self.education
        ]
        if education:
            document["education"] = education
        if self.skills:
            document["skills"] = [{"name": skill} for skill in self.skills]
        return document

    def embedding_text(self) -> str:
        """The text an embedder sees: what a recruiter would read first."""
        parts = [self.summary or "", " ".join(self.skills)]
        parts += [" ".join(filter(None, (w.title, w.employer, w.summary))) for w in self.work]
        parts += [" ".join(filter(None, (e.area, e.study_type))) for e in self.education]
        return "\n".join(p for p in parts if p)


def _compact(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value not in (None, "", [], {})}
