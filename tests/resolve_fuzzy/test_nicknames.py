"""Nickname groups: related forms meet, unrelated formal names do not."""

from __future__ import annotations

import pytest

from rex_pipeline.resolve.fuzzy.nicknames import name_groups


def _equivalent(a: str, b: str) -> bool:
    return bool(set(name_groups(a)) & set(name_groups(b)))


@pytest.mark.parametrize(
    ("a", "b"),
    [("bob", "robert"), ("bob", "rob"), ("liz", "elizabeth"), ("bill", "william"),
     ("jimmy", "james"), ("peggy", "margaret")],
)  # fmt: skip
def test_related_forms_are_equivalent(a: str, b: str) -> None:
    assert _equivalent(a, b)


@pytest.mark.parametrize(("a", "b"), [("robert", "william"), ("john", "jane"), ("ada", "grace")])
def test_unrelated_names_are_not(a: str, b: str) -> None:
    assert not _equivalent(a, b)
