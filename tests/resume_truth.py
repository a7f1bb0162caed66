"""Hand-written ground truth for the shared text resumes, and per-field accuracy against it.

Each row was written by reading the document itself (its rendered pages), not the parser's
output. "Most recent" is the first entry the resume lists (all of them list newest first).
Placeholder templates keep their placeholders: AltaCV's "Job Title 1", moderncv's "Job title".
A location is None where the document prints no place of its own (moderncv's "postcode city").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from resumeflow.domain.resume import ParsedResume

__all__ = ["FIELDS", "TRUTH", "Truth", "accuracy", "field_hits", "format_table"]


@dataclass(frozen=True)
class Truth:
    name: str
    email: str | None
    phone: str | None
    location: str | None
    title: str
    employer: str
    institution: str
    work_count: int
    skills: frozenset[str]
    not_skills: frozenset[str] = field(default_factory=frozenset)


def _truth(*row: object, not_skills: Iterable[str] = ()) -> Truth:
    name, email, phone, location, title, employer, institution, count, skills = row
    return Truth(
        str(name),
        email if isinstance(email, str) else None,
        phone if isinstance(phone, str) else None,
        location if isinstance(location, str) else None,
        str(title),
        str(employer),
        str(institution),
        int(str(count)),
        frozenset(str(skills).split(";")) if skills else frozenset(),
        frozenset(not_skills),
    )


_JANE = ("Jane Q. Fullstacker", "Head Code Ninja", "Area 52", "Cornell University", 4)
_MODERNCV = ("John Doe", "john@doe.org", "+1 (234) 567 890", None, "Job title", "Employer")
_EBONY = ("Ebony Moore", "emoore@email.com")

TRUTH: Mapping[str, Truth] = {
    "altacv__sample.pdf": _truth(
        "Your Name Here", "your_name@email.com", "000-00-0000", "Location, COUNTRY",
        "Job Title 1", "Company 1", "Your University", 2,
        "C++;Embedded Systems;Hard-working;Eye for detail",
        not_skills=["Hard-working Eye for detail"],
    ),
    "hackmyresume__jane-q-fullstacker.doc": _truth(
        _JANE[0], "jdoe@onecoolstartup.io", "1-650-999-7777", None, *_JANE[1:],
        "JavaScript;Node.js;MySQL;AWS",
    ),
    # This theme prints no contact line at all.
    "hackmyresume__jane-q-fullstacker.pdf": _truth(
        _JANE[0], None, None, None, *_JANE[1:], "JavaScript;Node.js;MySQL;AWS"
    ),
    "moderncv__template-zh.pdf": _truth(
        "\u5c0f\u9f99 \u674e", "xiaolong@li.com.cn", "+1 (234) 567 890", None,
        "\u804c\u4f4d", "\u516c\u53f8", "\u9662\u6821", 3, "",
    ),
    # Page 4 is a cover letter: its "Company Recruitment team" is no skill of John's.
    "moderncv__template_banking_red.pdf": _truth(
        *_MODERNCV, "Institution", 3, "", not_skills=["Recruiting"]
    ),
    "moderncv__template_classic_green.pdf": _truth(
        *_MODERNCV, "Institution", 3, "", not_skills=["Recruiting"]
    ),
    # Student: the involvement and volunteer sections are the work history.
    "open-resume__laverne-resume.pdf": _truth(
        "Leo Leopard", "lleopard@laverne.edu", "(909) 555-5555", "La Verne, CA",
        "Member", "Enactus", "University of La Verne", 3,
        "Microsoft Word;PowerPoint;Microsoft Excel",
    ),
    "rendercv__John_Doe_ClassicTheme_CV.pdf": _truth(
        "John Doe", "youremail@yourdomain.com", "0541 999 99 99", "Your Location",
        "Software Engineer", "Apple", "University of Pennsylvania", 2, "C++;Java;SQL",
    ),
    "resume-matcher__alfred_pennyworth_pm.pdf": _truth(
        "Alfred Pennyworth", "alfred.pennyworth@email.com", "(123) 456-7890",
        "Silicon Valley, CA, USA", "Product Manager", "Google", "Stanford University", 5,
        "Product Management;Agile",
    ),
    "resume-matcher__barry_allen_fe.pdf": _truth(
        "Barry Allen", "allthe.stars@google.com", "(123) 456-7890", "Mountain View, CA, USA",
        "Software Engineer (Front-End)", "Google", "Indian Institute of Technology Delhi", 1,
        "JavaScript;React;TypeScript",
    ),
    "resume-matcher__bruce_wayne_fullstack.pdf": _truth(
        "Bruce Wayne", "bwayne@email.com", "(123) 456-7890", "Gotham, USA",
        "MERN Stack Developer", "OpenAI", "CalTech", 3, "React;Node.js;MongoDB",
    ),
    "resume-matcher__harvey_dent_mle.pdf": _truth(
        "Harvey Dent", "hdent@email.com", "(123) 456-7891", "Gotham, USA",
        "Machine Learning Engineer", "OpenAI", "MIT", 3, "Python;PyTorch;TensorFlow",
    ),
    "resume-matcher__john_doe.pdf": _truth(
        "John Doe", "john.doe@email.com", "(123) 456-7890", "Anywhere, USA",
        "Full Stack Java Developer", "ABC Company, Inc.", "State University", 2,
        "Java;Spring Boot;Angular",
    ),
    "resume-matcher__modern-two-column.pdf": _truth(
        "John Doe", "john.doe@email.com", "+1 (415) 555-0142", "San Francisco, CA",
        "Senior Software Engineer", "Stripe", "UC Berkeley", 3, "Go;Python;Kafka",
    ),
    "resume-parser-api__senior-backend-developer.pdf": _truth(
        "John Doe", "example@example.com", "123-456-7890", "New York",
        "Senior Backend Developer", "Microsoft", "New York University", 2,
        "Java;Python;Spring Boot",
    ),
    "soupboss__01-Accountant.docx": _truth(
        *_EBONY, "206-555-0149", "Seattle, WA", "Certified Public Accountant",
        "Gilmore Financial", "Cloverfield College", 3, "Accounting;Tax Preparation",
    ),
    "soupboss__01-Accountant.pdf": _truth(
        *_EBONY, "206-555-0149", "Seattle, WA", "Certified Public Accountant",
        "Gilmore Financial", "Cloverfield College", 3, "Accounting;Tax Preparation",
    ),
    "soupboss__02-Desktop_Support.docx": _truth(
        *_EBONY, "873-555-0156", "Little Rock, AR", "Desktop Support Manager",
        "Meyer Tech Inc.", "Waldorf College", 3, "Technical Support;Troubleshooting",
    ),
    "soupboss__02-Office_Coordinator.docx": _truth(
        "Cody Fredrickson", "cfredrickson@email.com", "771-555-0199", "Allendale, MI",
        "Practice Manager", "Brightside Dental", "Northwest Vermont University", 2,
        "Microsoft Office",
    ),
}  # fmt: skip

FIELDS = (
    "name", "email", "phone", "location", "title", "employer", "institution", "work", "skills",
)  # fmt: skip


def _norm(value: str | None) -> str:
    return re.sub(r"[\W_]+", " ", (value or "").casefold()).strip()


def _digits(value: str | None) -> str:
    return re.sub(r"\D", "", value or "")


def field_hits(parsed: ParsedResume, truth: Truth) -> dict[str, bool]:
    """Which of the fields ``parsed`` got right."""
    first_job = parsed.work[0] if parsed.work else None
    first_school = parsed.education[0] if parsed.education else None
    skills = {skill.casefold() for skill in parsed.skills}
    return {
        "name": _norm(parsed.name) == _norm(truth.name),
        "email": (parsed.email or "").casefold() == (truth.email or "").casefold(),
        "phone": _digits(parsed.phone) == _digits(truth.phone),
        "location": _norm(parsed.location) == _norm(truth.location),
        "title": first_job is not None and _norm(first_job.title) == _norm(truth.title),
        "employer": first_job is not None and _norm(first_job.employer) == _norm(truth.employer),
        "institution": first_school is not None
        and _norm(first_school.institution) == _norm(truth.institution),
        "work": len(parsed.work) == truth.work_count,
        "skills": {s.casefold() for s in truth.skills} <= skills
        and not {s.casefold() for s in truth.not_skills} & skills,
    }


def accuracy(hits: Iterable[Mapping[str, bool]]) -> dict[str, float]:
    """Per field, the percentage of documents that got it right."""
    rows = list(hits)
    return {f: 100 * sum(row[f] for row in rows) / len(rows) for f in FIELDS} if rows else {}


def format_table(columns: Mapping[str, Mapping[str, float]]) -> str:
    """A plain table: one row per field, one column per named accuracy."""
    names = list(columns)
    lines = ["field        " + "".join(f"{name:>10}" for name in names)]
    for f in FIELDS:
        lines.append(f"{f:<13}" + "".join(f"{columns[name][f]:>10.1f}" for name in names))
    return "\n".join(lines)
