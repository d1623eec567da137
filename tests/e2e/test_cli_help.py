"""``keel ... --help`` reads as plain words: no reStructuredText or Markdown markup from the docstrings
(double backticks, Sphinx roles like :class:, bold stars), and every command says what it does."""

from __future__ import annotations

import re

import pytest
import typer
from typer.testing import CliRunner

from keel.cli import app
from keel.cli_support import every_command

MARKUP = re.compile(r"``|:(?:func|class|meth|mod|attr|data|ref|obj|exc|py:\w+):`?|\*\*|\.\. \w+::")


def _groups(group: typer.Typer, words: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [words]
    for sub in group.registered_groups:
        assert sub.typer_instance is not None
        if isinstance(sub.name, str):  # a group without a name lends its commands to its parent
            found += _groups(sub.typer_instance, (*words, sub.name))
    return found


EVERY = _groups(app) + [tuple(words.split()) for words, _ in every_command(app)]


def help_text(words: tuple[str, ...]) -> str:
    result = CliRunner(env={"COLUMNS": "200"}).invoke(app, [*words, "--help"])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("words", EVERY, ids=lambda words: " ".join(words) or "keel")
def test_help_reads_as_plain_words(words: tuple[str, ...]) -> None:
    text = help_text(words)
    assert [line.strip(" │") for line in text.splitlines() if MARKUP.search(line)] == []


def test_every_command_says_what_it_does() -> None:
    silent = [words for words, info in every_command(app) if not (info.help or info.callback.__doc__ or "").strip()]
    assert silent == []


@pytest.mark.parametrize(
    "text",
    ["Import ``rows`` here.", "See :class:`Keel`.", "Uses :func:`open_keel`", "a **bold** claim"],
)
def test_the_markup_check_catches_markup(text: str) -> None:
    assert MARKUP.search(text)
