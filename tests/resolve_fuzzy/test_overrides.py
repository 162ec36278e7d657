"""data/overrides.yaml: pairs people decided, by id, email or domain."""

from __future__ import annotations

from pathlib import Path

import pytest

from rex_pipeline.resolve.fuzzy import Overrides, OverridesError, load_overrides, resolve_overrides
from tests.resolve_fuzzy.fuzzy_factory import contacts, person

REPO = Path(__file__).resolve().parents[2]


def test_the_example_file_loads_empty() -> None:
    overrides = load_overrides(REPO / "data" / "overrides.yaml")
    assert overrides == Overrides()


def test_missing_file_means_no_overrides(tmp_path: Path) -> None:
    assert load_overrides(tmp_path / "nope.yaml") == Overrides()


def test_both_entry_forms_and_case_of_emails(tmp_path: Path) -> None:
    path = tmp_path / "overrides.yaml"
    path.write_text(
        "must_merge:\n"
        "  - [cont_01jbz3v8x6e0f9q2w7k4m5n6p7, Ada.Lovelace@Gmail.com]\n"
        "never_merge:\n"
        "  - {a: john.smith@initech.com, b: jane.smith@initech.com, note: siblings}\n",
        encoding="utf-8",
    )
    overrides = load_overrides(path)
    assert overrides.must_merge == (("cont_01jbz3v8x6e0f9q2w7k4m5n6p7", "ada.lovelace@gmail.com"),)
    assert overrides.never_merge == (("john.smith@initech.com", "jane.smith@initech.com"),)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("must_merge:\n  - [cont_a]\n", "expected two references"),
        ("never_merge:\n  - [cont_a, cont_a]\n", "both sides are"),
        ("must_merge:\n  - [cont_a, '']\n", "blank"),
        ("- just a list\n", "top level must be a mapping"),
        ("must_merge: [[a, b]\nnever_merge", "not valid YAML"),
        ("merge_always: []\n", "merge_always"),
    ],
)
def test_malformed_files_say_what_is_wrong(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "overrides.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(OverridesError, match=problem):
        load_overrides(path)


def test_references_resolve_to_nodes_by_id_and_email_key() -> None:
    nodes = contacts(
        person("cont_1", "Ada", "Lovelace", "adalovelace@gmail.com"),
        person("tmp_2", "Ada", "Lovelace", "ada@engines.co.uk", "ada.l@engines.co.uk"),
    )
    overrides = Overrides(
        must_merge=(("cont_1", "ada.l@engines.co.uk"), ("cont_1", "cont_gone")),
        never_merge=(("ada@engines.co.uk", "ada.l@engines.co.uk"),),
    )
    resolved = resolve_overrides(overrides, nodes)
    assert resolved.must == [("cont_1", "tmp_2")]
    assert resolved.unmatched == ["cont_gone"]
    assert resolved.unsatisfiable == [("tmp_2", "tmp_2")]


def test_canonicalised_applies_the_pipelines_email_key() -> None:
    def gmail_key(address: str) -> str:
        local, domain = address.lower().split("@")
        return f"{local.replace('.', '')}@{domain}" if domain == "gmail.com" else address.lower()

    overrides = Overrides(must_merge=(("cont_1", "Ada.Lovelace@gmail.com"),)).canonicalised(
        gmail_key
    )
    assert overrides.must_merge == (("cont_1", "adalovelace@gmail.com"),)
