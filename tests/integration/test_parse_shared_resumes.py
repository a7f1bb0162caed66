"""Every shared resume extracted, parsed and rendered: a valid JSON Resume with the contact
fields the document shows; the two resumes with structured sources match them; the shared job
descriptions yield their skills and years.

The EXPECTED table was written by reading each file's extracted text, not the parser's output.
Names printed in capitals are expected in title case, and phones as the parser normalizes them
(digits, "+", "-" and spaces: "(123) 456-7890" -> "123 456-7890").
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any
from urllib.parse import urlsplit
from uuid import uuid4

import pytest
from jsonschema import Draft7Validator, FormatChecker

from resumeflow.adapters.local.extraction import extract_document
from resumeflow.adapters.local.jobs import job_post_from_text
from resumeflow.adapters.local.parser import parse_resume_text
from resumeflow.domain.documents import sniff_format
from tests.conftest import EXTERNAL, needs_shared, shared_resumes

pytestmark = [pytest.mark.integration, needs_shared]

JANE = "hackmyresume__jane-q-fullstacker"
RENDERCV = "rendercv__John_Doe_ClassicTheme_CV"
BACKEND_PHONE = ("John Doe", "example@example.com", "123-456-7890")
EXPECTED: dict[str, tuple[str, str | None, str | None]] = {
    "altacv__sample.pdf": ("Your Name Here", "your_name@email.com", "000-00-0000"),
    f"{JANE}.doc": ("Jane Q. Fullstacker", "jdoe@onecoolstartup.io", "1-650-999-7777"),
    # This theme prints no contact line: the PDF's text has no e-mail and no phone at all.
    f"{JANE}.pdf": ("Jane Q. Fullstacker", None, None),
    "moderncv__template-zh.pdf": ("\u5c0f\u9f99 \u674e", "xiaolong@li.com.cn", "+1 234 567 890"),
    "moderncv__template_banking_red.pdf": ("John Doe", "john@doe.org", "+1 234 567 890"),
    "moderncv__template_classic_green.pdf": ("John Doe", "john@doe.org", "+1 234 567 890"),
    "open-resume__laverne-resume.pdf": ("Leo Leopard", "lleopard@laverne.edu", "909 555-5555"),
    f"{RENDERCV}.pdf": ("John Doe", "youremail@yourdomain.com", "0541 999 99 99"),
    "resume-matcher__alfred_pennyworth_pm.pdf": (
        "Alfred Pennyworth",
        "alfred.pennyworth@email.com",
        "123 456-7890",
    ),
    "resume-matcher__barry_allen_fe.pdf": (
        "Barry Allen",
        "allthe.stars@google.com",
        "123 456-7890",
    ),
    "resume-matcher__bruce_wayne_fullstack.pdf": (
        "Bruce Wayne",
        "bwayne@email.com",
        "123 456-7890",
    ),
    "resume-matcher__harvey_dent_mle.pdf": ("Harvey Dent", "hdent@email.com", "123 456-7891"),
    "resume-matcher__john_doe.pdf": ("John Doe", "john.doe@email.com", "123 456-7890"),
    "resume-matcher__modern-two-column.pdf": ("John Doe", "john.doe@email.com", "+1 415 555-0142"),
    "resume-parser-api__senior-backend-developer.pdf": BACKEND_PHONE,
    "resume-parser-api__senior-backend-developer.png": BACKEND_PHONE,
    "soupboss__01-Accountant.docx": ("Ebony Moore", "emoore@email.com", "206-555-0149"),
    "soupboss__01-Accountant.pdf": ("Ebony Moore", "emoore@email.com", "206-555-0149"),
    "soupboss__02-Desktop_Support.docx": ("Ebony Moore", "emoore@email.com", "873-555-0156"),
    "soupboss__02-Office_Coordinator.docx": (
        "Cody Fredrickson",
        "cfredrickson@email.com",
        "771-555-0199",
    ),
}
# file -> (title, minimum years, skills that must be among the required ones)
EXPECTED_JOBS: dict[str, tuple[str, float, set[str]]] = {
    "resume-matcher__jd_backend-eng.txt": (
        "Senior Backend Engineer",
        4,
        {"Python", "asyncio", "Docker", "Kubernetes", "SQL", "Redis", "CI/CD", "Datadog"},
    ),
    "resume-matcher__jd_frontend-eng.txt": (
        "Senior Frontend Engineer",
        4,
        {"React", "TypeScript", "Next.js", "Tailwind CSS", "Storybook", "Jest", "Playwright"},
    ),
    "resume-matcher__jd_ml-eng.txt": (
        "Machine Learning Engineer",
        3,
        {"Python", "PyTorch", "scikit-learn", "Hugging Face", "SageMaker", "SQL", "Spark"},
    ),
    "resume-matcher__jd_product-manager.txt": (
        "Senior Product Manager",
        4,
        {"Product Management", "Amplitude", "Mixpanel", "Looker", "SQL", "A/B Testing"},
    ),
    "resume-matcher__job_desc_front_end_engineer.pdf": (
        "Front End Engineer",
        2,
        {"HTML", "CSS", "JavaScript", "jQuery", "React", "Vue.js", "Angular", "Git"},
    ),
    "resume-matcher__job_desc_full_stack_engineer.pdf": (
        "Senior Full Stack Engineer",
        5,
        {"HTML", "CSS", "JavaScript", "Python", "Ruby", "Java", "PHP", ".NET", "MySQL", "MongoDB"},
    ),
    "resume-matcher__job_desc_java_developer.pdf": (
        "Java Developer",
        3,
        {"Java", "SQL", "Hibernate", "Spring Framework", "Test-Driven Development"},
    ),
    "resume-matcher__job_desc_product_manager.pdf": ("Product Manager", 10, {"Product Management"}),
}


@pytest.fixture(autouse=True)
def _single_threaded_tesseract(monkeypatch: pytest.MonkeyPatch) -> None:
    # OpenMP threads make Debian's Tesseract several times slower on small machines.
    monkeypatch.setenv("OMP_THREAD_LIMIT", "1")


@cache
def _text(folder: str, name: str) -> str:
    """The extracted text of a shared file, once per run (OCR of the PNG takes seconds)."""
    assert EXTERNAL is not None
    data = (EXTERNAL / folder / name).read_bytes()
    fmt = sniff_format(data)
    assert fmt is not None, name
    return extract_document(data, fmt).text


@cache
def _validator() -> Draft7Validator:
    assert EXTERNAL is not None
    schema = json.loads((EXTERNAL / "schema" / "jsonresume__schema.json").read_text())
    return Draft7Validator(schema, format_checker=FormatChecker())


def _resumes() -> list[Any]:
    return [
        pytest.param(path.name, id=path.name, marks=[pytest.mark.slow] * (path.suffix == ".png"))
        for path in shared_resumes()
    ]


@pytest.mark.parametrize("name", _resumes())
def test_every_shared_resume_parses_to_a_valid_json_resume(name: str) -> None:
    document = parse_resume_text(_text("resumes", name)).to_json_resume()

    errors = [f"{list(e.absolute_path)}: {e.message}" for e in _validator().iter_errors(document)]
    assert errors == []
    # jsonschema checks "email" itself but "uri" only with an optional package: check URLs here.
    for profile in document["basics"].get("profiles", []):
        url = urlsplit(profile["url"])
        assert url.scheme in {"http", "https"} and url.netloc, profile


@pytest.mark.parametrize("name", _resumes())
def test_name_email_and_phone_are_the_ones_the_resume_shows(name: str) -> None:
    parsed = parse_resume_text(_text("resumes", name))
    assert (parsed.name, parsed.email, parsed.phone) == EXPECTED[name]


def test_the_expected_table_covers_every_shared_resume() -> None:
    assert {path.name for path in shared_resumes()} == set(EXPECTED)


@pytest.mark.parametrize("suffix", [".doc", ".pdf"])
def test_jane_matches_her_json_resume(suffix: str) -> None:
    assert EXTERNAL is not None
    truth = json.loads((EXTERNAL / "resumes" / "ground_truth" / f"{JANE}.resume.json").read_text())
    text = _text("resumes", JANE + suffix)
    parsed = parse_resume_text(text)

    assert parsed.name == truth["basics"]["name"]
    if suffix == ".pdf":
        assert truth["basics"]["email"] not in text  # nothing to find: see EXPECTED
        assert parsed.email is None
    else:
        assert parsed.email == truth["basics"]["email"]
        assert parsed.phone == truth["basics"]["phone"]
    assert [(w.employer, w.title, w.start, w.end, w.current) for w in parsed.work] == [
        (w["company"], w["position"], w["startDate"], w.get("endDate"), "endDate" not in w)
        for w in truth["work"]
    ]
    assert [(e.institution, (e.start or "")[:4], (e.end or "")[:4]) for e in parsed.education] == [
        (e["institution"], e["startDate"][:4], e["endDate"][:4]) for e in truth["education"]
    ]


def test_rendercv_john_doe_matches_his_yaml() -> None:
    assert EXTERNAL is not None
    yaml = (EXTERNAL / "resumes" / "ground_truth" / f"{RENDERCV}.yaml").read_text()
    cv = dict(re.findall(r"(?m)^  (\w+): (.+)$", yaml))  # the scalar fields directly under cv:
    parsed = parse_resume_text(_text("resumes", f"{RENDERCV}.pdf"))

    assert (parsed.name, parsed.email) == (cv["name"], cv["email"])
    assert re.sub(r"\D", "", parsed.phone or "")[-10:] == re.sub(r"\D", "", cv["phone"])[-10:]
    assert [(w.employer, w.title, w.start, w.end) for w in parsed.work] == _yaml_entries(
        yaml, "experience", ("company", "position", "start_date", "end_date")
    )
    assert [(e.institution, e.area, e.study_type, e.start, e.end) for e in parsed.education] == (
        _yaml_entries(
            yaml, "education", ("institution", "area", "degree", "start_date", "end_date")
        )
    )


def _yaml_entries(yaml: str, section: str, keys: tuple[str, ...]) -> list[tuple[str, ...]]:
    """The scalar ``keys`` of each entry of a RenderCV section (no YAML library needed)."""
    block = re.split(r"(?m)^    \w+:$", yaml.split(f"    {section}:\n")[1])[0]
    columns = [re.findall(rf"(?m)^\s+-? ?{key}: (.+)$", block) for key in keys]
    return list(zip(*columns, strict=True))


@pytest.mark.parametrize("name", sorted(EXPECTED_JOBS))
def test_shared_job_posts_yield_title_skills_and_years(name: str) -> None:
    title, years, skills = EXPECTED_JOBS[name]
    job = job_post_from_text(_text("jobs", name), job_post_id=uuid4())

    assert job.title == title
    assert job.min_years_experience == years
    assert skills <= set(job.required_skills), job.required_skills
    assert "Health" not in " ".join(job.required_skills)  # benefits are no requirement


def test_the_job_table_covers_every_text_and_pdf_job_post() -> None:
    assert EXTERNAL is not None
    posts = {p.name for p in (EXTERNAL / "jobs").iterdir() if p.suffix in {".txt", ".pdf"}}
    assert posts == set(EXPECTED_JOBS)
