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
