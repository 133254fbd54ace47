"""Docker env files (``docker run --env-file``): what is read, and every refusal by line."""

from __future__ import annotations

import pytest

from nubo.descriptors.env_file import parse_env_file, read_env_file
from nubo.model.errors import FieldProblem, InvalidDescriptor

NAME = "Files/app.env"


def test_variables_in_file_order() -> None:
    assert parse_env_file("B=2\nA=1\n_C9=3", NAME) == {"B": "2", "A": "1", "_C9": "3"}
    assert list(parse_env_file("B=2\nA=1\n", NAME)) == ["B", "A"]


def test_comments_blank_lines_and_leading_whitespace_are_skipped() -> None:
    text = "# a comment\n\n   \n  # an indented comment\n\tKEY=value\n   OTHER=x\n"
    assert parse_env_file(text, NAME) == {"KEY": "value", "OTHER": "x"}


def test_values_are_taken_literally() -> None:
    text = (
        'QUOTED="a b"\n'
        "SINGLE='c'\n"
        "DOLLAR=$HOME/${USER}\n"
        "EQUALS=a=b=c\n"
        "HASH=not # a comment\n"
        "TRAILING=spaces  \n"
        "EMPTY=\n"
        "BACKSLASH=a\\nb\n"
    )
    assert parse_env_file(text, NAME) == {
        "QUOTED": '"a b"',
        "SINGLE": "'c'",
        "DOLLAR": "$HOME/${USER}",
        "EQUALS": "a=b=c",
        "HASH": "not # a comment",
        "TRAILING": "spaces  ",
        "EMPTY": "",
        "BACKSLASH": "a\\nb",
    }


def test_crlf_lines_a_bom_and_a_missing_final_newline() -> None:
    assert parse_env_file("\ufeffA=1\r\nB=2", NAME) == {"A": "1", "B": "2"}


def test_a_later_value_wins_as_with_docker() -> None:
    assert parse_env_file("A=1\nA=2\n", NAME) == {"A": "2"}


def test_an_empty_file_has_no_variables() -> None:
    assert parse_env_file("", NAME) == {}
    assert parse_env_file("# only a comment\n", NAME) == {}


def test_a_name_alone_is_refused_never_taken_from_nubos_environment() -> None:
    with pytest.raises(InvalidDescriptor) as caught:
        parse_env_file("A=1\nHOME\n", NAME)
    (problem,) = caught.value.problems
    assert problem.path == NAME
    assert problem.message.startswith("line 2: 'HOME' has no '='")
    assert "environment of the host" in problem.message


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("1ABC=x", "'1ABC' is not a valid environment variable name"),
        ("MY-VAR=x", "'MY-VAR' is not a valid environment variable name"),
        ("MY.VAR=x", "'MY.VAR' is not a valid environment variable name"),
        ("ÄPFEL=x", "is not a valid environment variable name"),
        ("=x", "no variable name before '='"),
        ("KEY =x", "'KEY ' ends in whitespace"),
        ("MY VAR=x", "'MY VAR' is not a valid environment variable name"),
        ("A=b\0c", "NUL character"),
        ("A=\udcff", "not UTF-8 text"),
    ],
)
def test_bad_lines_are_refused(line: str, fragment: str) -> None:
    _, problems = read_env_file(f"# header\n{line}\n", NAME)
    assert [p.path for p in problems] == [NAME]
    assert problems[0].message.startswith("line 2: ") and fragment in problems[0].message


def test_every_problem_is_reported_at_once_with_its_line() -> None:
    text = "GOOD=1\n# comment\nBARE\n\n9LIVES=cat\nALSO_GOOD=2\n=nothing\n"
    variables, problems = read_env_file(text, NAME)
    assert variables == {"GOOD": "1", "ALSO_GOOD": "2"}
    assert [(p.path, p.message.split(":", 1)[0]) for p in problems] == [
        (NAME, "line 3"),
        (NAME, "line 5"),
        (NAME, "line 7"),
    ]
    with pytest.raises(InvalidDescriptor) as caught:
        parse_env_file(text, NAME)
    assert caught.value.problems == problems
    assert all(isinstance(p, FieldProblem) for p in problems)
