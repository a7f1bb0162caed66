"""The skills vocabulary: aliases map to one canonical name, and matching is whole-word even for
names made of symbols (C++, C#, .NET, Node.js)."""

from __future__ import annotations

import pytest

from resumeflow.adapters.local.skills import canonical_skill, find_skills, vocabulary


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("JS", "JavaScript"),
        ("ES6", "JavaScript"),
        ("Postgres", "PostgreSQL"),
        ("k8s", "Kubernetes"),
        ("K8s", "Kubernetes"),
        ("ML", "Machine Learning"),
        ("Golang", "Go"),
        ("NodeJS", "Node.js"),
        ("ReactJS", "React"),
        ("sklearn", "scikit-learn"),
        ("MS Excel", "Microsoft Excel"),
        ("Apache Kafka", "Kafka"),
        ("test driven development", "Test-Driven Development"),
        ("RESTful APIs", "REST APIs"),
    ],
)
def test_an_alias_is_reported_by_its_canonical_name(text: str, expected: str) -> None:
    assert find_skills(f"Worked with {text} daily.") == (expected,)
    assert canonical_skill(text) == expected


def test_symbol_names_match_as_whole_words() -> None:
    text = "C++, C#, .NET and ASP.NET services; Node.js and Vue.js; Objective-C; CI/CD; HTML/CSS."
    assert find_skills(text) == (
        "C++",
        "C#",
        ".NET",
        "ASP.NET",
        "Node.js",
        "Vue.js",
        "Objective-C",
        "CI/CD",
        "HTML",
        "CSS",
    )


def test_skills_come_once_each_in_order_of_first_mention() -> None:
    text = "Kubernetes and Python. Later python again, then k8s, then Docker."
    assert find_skills(text) == ("Kubernetes", "Python", "Docker")


@pytest.mark.parametrize(
    "text",
    [
        "Excellent written skills",  # not Excel
        "github.com/jdoe and /github jdoe",  # a domain and an icon name, not the skill
        "Dean's List, Fall 2013 - Spring 2014",  # a semester, not the framework
        "Briefed the C-suite; Go-live in May",  # neither C nor Go
        "R&D budget",  # not R
        "S E N I O R  B A C K E N D",  # letter-spaced capitals, not C or R
        "John R. Smith",  # an initial, not R
        "We react quickly and go far",  # ordinary words in lower case
        "jdoe@python.org",  # an e-mail address
    ],
)
def test_words_that_only_look_like_skills_are_not_skills(text: str) -> None:
    assert find_skills(text) == ()


def test_a_skill_inside_a_longer_name_is_not_reported() -> None:
    assert find_skills("JavaScript, MySQL, Spring Boot") == ("JavaScript", "MySQL", "Spring Boot")


def test_short_exact_terms_still_match_in_a_list() -> None:
    assert find_skills("Agile PM C C++ R OpenGL") == ("Agile", "C", "C++", "R", "OpenGL")
    assert find_skills("Languages: Go, Rust and R") == ("Go", "Rust", "R")


def test_a_multiword_skill_may_wrap_across_lines() -> None:
    assert find_skills("Project\nmanagement and Natural\nLanguage Processing") == (
        "Project Management",
        "Natural Language Processing",
    )


def test_the_vocabulary_is_large_and_each_name_finds_itself() -> None:
    names = vocabulary()
    assert len(names) >= 300
    assert len(set(names)) == len(names)
    for name in names:
        assert canonical_skill(name) == name
        assert find_skills(name) == (name,), name


def test_unknown_terms_have_no_canonical_name() -> None:
    assert canonical_skill("Basket weaving") is None
    assert canonical_skill("go") is None  # "Go" only in its own case
    assert find_skills("") == ()


def test_families_count_narrower_skills_as_the_broader_one() -> None:
    from resumeflow.adapters.local.skills import broader_skills, narrower_skills

    assert {"MySQL", "PostgreSQL"} <= set(narrower_skills("SQL"))
    assert "React" in narrower_skills("JavaScript")
    assert "SQL" in broader_skills("MySQL")
    assert narrower_skills("MySQL") == ()  # never the other way round


def test_a_job_reads_such_as_as_one_of_and_nice_to_have_at_half() -> None:
    from uuid import uuid4

    from resumeflow.adapters.local.job_files import job_post_from_json_ld
    from resumeflow.adapters.local.jobs import job_post_from_text

    job = job_post_from_text(
        "Backend Engineer\nWe build with FastAPI and Kafka.\n"
        "Requirements\n\u2022 Languages such as Python, Ruby, Java, PHP, and .Net.\n"
        "\u2022 Go is a plus.\n",
        job_post_id=uuid4(),
    )
    by_label = {r.label: r for r in job.skill_requirements}
    assert {"FastAPI", "Kafka"} <= set(by_label)  # from the first paragraph
    options = by_label["one of Python, Ruby, Java, PHP, .NET"]
    assert options.weight == 1 and "Django" in options.accepts
    assert by_label["Go"].weight == 0.5
    posting = {
        "@type": "JobPosting",
        "title": "Data Engineer",
        "description": "<p>Pipelines in <b>Spark</b>.</p>",
        "experienceRequirements": {"monthsOfExperience": 36},
    }
    read = job_post_from_json_ld({"jsonld": posting}, job_post_id=uuid4(), name="x.json")
    assert (read.title, read.min_years_experience) == ("Data Engineer", 3.0)
    assert "Spark" in read.required_skills and "<p>" not in read.description
