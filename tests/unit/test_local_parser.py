"""The rule-based resume parser and job-post reader, on small texts written here.

Each text imitates a layout seen in real extracted resumes: contacts on one line, date ranges at
the start or at the end of an entry, employer before or after the title, letter-spaced headings,
the name printed last by a two-column layout.
"""

from __future__ import annotations

from uuid import uuid4

import pytest

from resumeflow.adapters.local.jobs import job_post_from_text
from resumeflow.adapters.local.parser import LocalResumeParser, parse_resume_text
from resumeflow.adapters.local.resume_text import find_range, parse_date
from resumeflow.domain.resume import EducationEntry, Link, ParsedResume, WorkEntry

CLASSIC = """\
Curriculum Vitae
MARIA  GARCIA-LOPEZ
Austin, TX | (512) 555-0187 | maria.garcia@example.org
linkedin.com/in/mariagl \u00b7 https://github.com/mgl

Professional Summary
Backend engineer with 7 years of experience building Python and Go services. Led migra-
tion of a monolith to microservices.

Technical Skills
Languages: Python, Go, SQL
Tools: Docker, k8s, Postgres, Terraform,
GitHub Actions, Release engineering

Work Experience
Senior Software Engineer, Acme Corp, Austin, TX\tJan 2020 \u2013 Present
\u2022 Built event-driven billing services in Python
Software Engineer at Initech\t06/2016 - 12/2019
\u2022 Maintained Django apps

Education
Master of Science in Computer Science, University of Texas at Austin, 2014 \u2013 2016
B.S. in Mathematics
Rice University
Aug 2010 \u2013 May 2014
"""


def test_a_classic_resume_is_read_field_by_field() -> None:
    parsed = parse_resume_text(CLASSIC)

    assert parsed.name == "Maria Garcia-Lopez"
    assert parsed.email == "maria.garcia@example.org"
    assert parsed.phone == "512 555-0187"
    assert parsed.location == "Austin, TX"
    assert parsed.links == (
        Link(url="https://linkedin.com/in/mariagl", network="LinkedIn"),
        Link(url="https://github.com/mgl", network="GitHub"),
    )
    assert parsed.summary == (
        "Backend engineer with 7 years of experience building Python and Go services. "
        "Led migration of a monolith to microservices."
    )
    assert parsed.skills[:9] == (
        "Python",
        "Go",
        "SQL",
        "Docker",
        "Kubernetes",
        "PostgreSQL",
        "Terraform",
        "GitHub Actions",
        "Release engineering",
    )
    assert {"Microservices", "Django"} <= set(parsed.skills)
    assert [(w.title, w.employer, w.start, w.end, w.current) for w in parsed.work] == [
        ("Senior Software Engineer", "Acme Corp", "2020-01", None, True),
        ("Software Engineer", "Initech", "2016-06", "2019-12", False),
    ]
    assert parsed.work[0].summary == "Built event-driven billing services in Python"
    assert parsed.education == (
        EducationEntry(
            institution="University of Texas at Austin",
            area="Computer Science",
            study_type="Master of Science",
            start="2014",
            end="2016",
        ),
        EducationEntry(
            institution="Rice University",
            area="Mathematics",
            study_type="B.S.",
            start="2010-08",
            end="2014-05",
        ),
    )


def test_the_json_resume_rendering_carries_the_parsed_dates() -> None:
    document = parse_resume_text(CLASSIC).to_json_resume()
    assert document["basics"]["name"] == "Maria Garcia-Lopez"
    assert document["work"][0] == {
        "name": "Acme Corp",
        "position": "Senior Software Engineer",
        "startDate": "2020-01",
        "summary": "Built event-driven billing services in Python",
    }
    assert document["education"][1]["endDate"] == "2014-05"


def test_dates_that_lead_their_entries() -> None:
    text = """\
Alex Kim
alex.kim@example.com
Experience
2019 \u2013
Present
Data Engineer, Globex, Springfield, IL
Built pipelines that moved data between warehouses.
2015 \u2013 2019 Analyst, Initech, Chicago, IL
Education
2011 \u2013 2015 Bachelor of Arts in Economics, Northwestern University, Evanston, IL
"""
    parsed = parse_resume_text(text)
    assert [(w.title, w.employer, w.start, w.end, w.current) for w in parsed.work] == [
        ("Data Engineer", "Globex", "2019", None, True),
        ("Analyst", "Initech", "2015", "2019", False),
    ]
    assert parsed.work[0].summary == "Built pipelines that moved data between warehouses."
    assert parsed.education == (
        EducationEntry(
            institution="Northwestern University",
            area="Economics",
            study_type="Bachelor of Arts",
            start="2011",
            end="2015",
        ),
    )


def test_employer_first_entries_and_dates_after_the_bullets() -> None:
    text = """\
Sam Lee
Experience
Apple, Software Engineer
\u2022 Reduced render time by 75% with a prediction al-
gorithm
Cupertino, CA
June 2005 \u2013 Aug 2007
Brightside Dental, Practice Manager
Aug. 2019 \u2013 Current
"""
    assert parse_resume_text(text).work == (
        WorkEntry(
            title="Software Engineer",
            employer="Apple",
            start="2005-06",
            end="2007-08",
            summary="Reduced render time by 75% with a prediction algorithm",
        ),
        WorkEntry(
            title="Practice Manager", employer="Brightside Dental", start="2019-08", current=True
        ),
    )


def test_a_name_printed_last_is_found_through_the_email() -> None:
    text = """\
Senior Data Scientist
jane.roe@example.com +44 20 7946 0958 London, UK
S K I L L S
Python, Statistics
Jane Roe
"""
    parsed = parse_resume_text(text)
    assert parsed.name == "Jane Roe"
    assert parsed.phone == "+44 20 7946 0958"
    assert parsed.location == "London, UK"
    assert parsed.skills[:2] == ("Python", "Statistics")


@pytest.mark.parametrize(
    ("first_lines", "name"),
    [
        ("YOUR NAME HERE\nYour Position or Tagline Here", "Your Name Here"),
        ("J O H N  D O E\nS E N I O R  D E V E L O P E R", "John Doe"),
        ("2\nLeo\t\r \xa0Leopard\n555 La Verne Way, La Verne, CA", "Leo Leopard"),
        ("Resume\nJohn Doe | R\u00e9sum\u00e9 title", "John Doe"),
        ("\u5c0f\u9f99 \u674e\n\u7b80\u5386", "\u5c0f\u9f99 \u674e"),
        ("Product Manager\nSilicon Valley, CA, USA", None),
    ],
)
def test_the_name_is_the_first_line_that_reads_as_one(first_lines: str, name: str | None) -> None:
    assert parse_resume_text(first_lines).name == name


@pytest.mark.parametrize(
    ("line", "phone"),
    [
        ("(909)\t\r \xa0555-\u00ad\u20105555", "909 555-5555"),
        ("123\u2212456\u22127890", "123-456-7890"),
        ("Mobile: +1 (415) 555-0142", "+1 415 555-0142"),
        ("jdoe@onecoolstartup.io1-650-999-7777http://janef.me/blog", "1-650-999-7777"),
        ("555.123.4567", "555 123 4567"),
        ("2016-2020, then 2021 - 2023", None),
        ("ORCID 0000-0000-0000-0000", None),
    ],
)
def test_phone_numbers_keep_digits_plus_dashes_and_spaces(line: str, phone: str | None) -> None:
    assert parse_resume_text(f"Pat Doe\n{line}").phone == phone


def test_an_email_glued_to_the_next_run_stops_at_its_domain() -> None:
    parsed = parse_resume_text("Jane Q. Fullstacker\njdoe@onecoolstartup.io1-650-999-7777")
    assert parsed.email == "jdoe@onecoolstartup.io"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Jan 2020", "2020-01"),
        ("January 2020", "2020-01"),
        ("Sept. 2002", "2002-09"),
        ("01/2020", "2020-01"),
        ("1/2020", "2020-01"),
        ("2020-01", "2020-01"),
        ("2019", "2019"),
        ("Fall 2013", "2013"),
        ("Month 20XX", None),
    ],
)
def test_dates_become_json_resume_dates(value: str, expected: str | None) -> None:
    assert parse_date(value) == expected


@pytest.mark.parametrize(
    ("line", "start", "end", "current"),
    [
        ("2019 \u2013 Present", "2019", None, True),
        ("June 2018 - Aug 2020", "2018-06", "2020-08", False),
        ("01/2020 to 03/2021", "2020-01", "2021-03", False),
        ("Head Code Ninja, Area 52Sep 2013 \u2014 Current", "2013-09", None, True),
        ("2005-09 \u2014 2008-05", "2005-09", "2008-05", False),
        ("2018-2022 B.Tech", "2018", "2022", False),
        ("Oct. 2021 \u2013 Current", "2021-10", None, True),
    ],
)
def test_date_ranges(line: str, start: str, end: str | None, current: bool) -> None:
    found = find_range(line)
    assert found is not None
    assert (found.start, found.end, found.current) == (start, end, current)


def test_a_lone_date_is_no_range() -> None:
    assert find_range("Expected Graduation: June 2016") is None


def test_nothing_found_in_nothing() -> None:
    assert parse_resume_text("") == ParsedResume()


async def test_the_port_adapter_returns_what_the_function_does() -> None:
    parser = LocalResumeParser()
    assert parser.name == "local-rules@1"
    assert await parser.parse(CLASSIC) == parse_resume_text(CLASSIC)


# --- job posts ---------------------------------------------------------------------------------

POSTING = """\
Job Description: Platform Engineer (5+ Years of Experience)
About Us
We run 20 years of archives on Kafka and Cassandra.
Requirements
\u2022 3-5 years of experience with Python or Go.
\u2022 At least 2 years operating Kubernetes and Terraform.
\u2022 Comfortable with PostgreSQL.
Benefits
\u2022 A Java user group and 10 years of free coffee.
"""


def test_a_job_post_reads_its_requirements() -> None:
    job_id = uuid4()
    job = job_post_from_text(POSTING, job_post_id=job_id)
    assert job.id == job_id
    assert job.title == "Platform Engineer"
    assert job.description == POSTING.strip()
    assert job.required_skills == ("Python", "Go", "Kubernetes", "Terraform", "PostgreSQL")
    assert job.min_years_experience == 2


def test_a_given_title_wins() -> None:
    job = job_post_from_text(POSTING, job_post_id=uuid4(), title="SRE")
    assert job.title == "SRE"


def test_a_post_without_a_requirements_part_uses_all_of_it() -> None:
    text = (
        "We are looking for a Senior Data Engineer to join us. You bring 4+ years of experience\n"
        "with Spark and Airflow; the company has existed for 30 years."
    )
    job = job_post_from_text(text, job_post_id=uuid4())
    assert job.title == "Senior Data Engineer"
    assert job.required_skills == ("Spark", "Airflow")
    assert job.min_years_experience == 4


def test_years_are_zero_when_the_post_names_none() -> None:
    job = job_post_from_text("Barista\nMust love coffee.", job_post_id=uuid4())
    assert (job.title, job.min_years_experience, job.required_skills) == ("Barista", 0.0, ())


def test_an_empty_post_is_refused() -> None:
    with pytest.raises(ValueError, match="needs some text"):
        job_post_from_text(" \n ", job_post_id=uuid4())
