"""`rex overrides`: decisions written into the overrides file as a sync reads them, with the
file's comments kept, and refused when they are malformed or contradict an earlier one."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rex_pipeline.cli import main
from rex_pipeline.resolve.fuzzy.overrides import Overrides, OverridesError, load_overrides
from rex_pipeline.resolve.overrides_file import decisions, record_decision, remove_decision
from tests.conftest import REPO, config_naming

ADA = "cont_01h455vb4pex5vsknk084sn02q"
ADA_PERSONAL = "Ada.Lovelace@Gmail.com"


@pytest.fixture
def overrides(tmp_path: Path) -> Path:
    """A copy of the repository's overrides file: its long header comment, empty lists."""
    path = tmp_path / "overrides.yaml"
    shutil.copy(REPO / "data" / "overrides.yaml", path)
    return path


def test_decisions_are_written_as_a_sync_reads_them_and_the_comments_stay(
    overrides: Path,
) -> None:
    header = overrides.read_text(encoding="utf-8").split("must_merge")[0]
    assert record_decision(overrides, "must_merge", ADA, ADA_PERSONAL) == (
        (ADA, "ada.lovelace@gmail.com"),
        True,
    )
    record_decision(overrides, "never_merge", "ACME.com", "https://www.acme.de/", "two firms")
    text = overrides.read_text(encoding="utf-8")
    assert text.startswith(header)  # every comment line, unchanged
    assert f"  - [{ADA}, ada.lovelace@gmail.com]\n" in text
    assert "  - {a: acme.com, b: acme.de, note: two firms}\n" in text
    assert load_overrides(overrides) == Overrides(
        must_merge=((ADA, "ada.lovelace@gmail.com"),), never_merge=(("acme.com", "acme.de"),)
    )
    assert decisions(overrides) == [
        {"kind": "must_merge", "a": ADA, "b": "ada.lovelace@gmail.com", "note": None},
        {"kind": "never_merge", "a": "acme.com", "b": "acme.de", "note": "two firms"},
    ]


def test_a_decision_recorded_twice_is_kept_once_and_a_contradiction_is_refused(
    overrides: Path,
) -> None:
    record_decision(overrides, "must_merge", ADA, ADA_PERSONAL)
    before = overrides.read_text(encoding="utf-8")
    assert record_decision(overrides, "must_merge", "ada.lovelace@gmail.com", ADA)[1] is False
    with pytest.raises(OverridesError, match=r"must_merge already holds .* remove that decision"):
        record_decision(overrides, "never_merge", ADA_PERSONAL, ADA)
    assert overrides.read_text(encoding="utf-8") == before
    assert remove_decision(overrides, ADA_PERSONAL, ADA) == (
        "must_merge",
        (ADA_PERSONAL.lower(), ADA),
    )
    assert load_overrides(overrides) == Overrides()
    assert record_decision(overrides, "never_merge", ADA_PERSONAL, ADA)[1] is True
    with pytest.raises(OverridesError, match="no decision about"):
        remove_decision(overrides, ADA, "ada@acme-robotics.com")


@pytest.mark.parametrize(
    ("a", "b", "message"),
    [
        (ADA, "acme.com", "is a contact and acme.com a company"),
        ("cont_01h455vb4pex5vsknk084sn0", ADA_PERSONAL, "not a valid contact id"),
        ("ada@", ADA, "not a valid email address"),
        ("Ada Lovelace", ADA, "not a contact or company id, an email address or a domain"),
        ("acme.com", "www.Acme.com", "both sides are acme.com"),
    ],
)
def test_a_malformed_pair_is_refused_and_the_file_is_untouched(
    overrides: Path, a: str, b: str, message: str
) -> None:
    before = overrides.read_text(encoding="utf-8")
    with pytest.raises(OverridesError, match=message):
        record_decision(overrides, "must_merge", a, b)
    assert overrides.read_text(encoding="utf-8") == before


def test_a_broken_file_is_left_for_a_person_to_mend(overrides: Path) -> None:
    overrides.write_text("must_merge:\n  - [a@acme.com\n", encoding="utf-8")
    with pytest.raises(OverridesError, match="not valid YAML"):
        record_decision(overrides, "must_merge", ADA, ADA_PERSONAL)
    assert overrides.read_text(encoding="utf-8") == "must_merge:\n  - [a@acme.com\n"


def test_a_missing_file_is_created(tmp_path: Path) -> None:
    path = tmp_path / "data" / "overrides.yaml"
    record_decision(path, "never_merge", "jane.smith@initech.com", "john.smith@initech.com")
    assert load_overrides(path).never_merge == (
        ("jane.smith@initech.com", "john.smith@initech.com"),
    )


def test_cli_records_lists_and_removes_decisions(
    overrides: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("REX_CONFIG", str(config_naming(overrides)))
    monkeypatch.setenv("REX_DUCKDB_PATH", str(tmp_path / "rex.duckdb"))  # no sync yet

    def rex(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    code, out, _ = rex("overrides", "keep-apart", "acme.com", "acme.de", "--note", "two firms")
    assert code == 0 and out.startswith("never_merge: acme.com + acme.de, recorded in ")
    assert "takes them off the review queue" in out
    code, out, _ = rex("overrides", "list", "--format", "csv")  # no warehouse: no status
    assert out.splitlines() == ["kind,a,b,note", "never_merge,acme.com,acme.de,two firms"]
    code, _, err = rex("overrides", "merge", "acme.de", "ACME.COM")
    assert code == 1 and err.startswith("rex: never_merge already holds") and err.count("\n") == 1
    code, out, _ = rex("overrides", "remove", "acme.de", "ACME.COM")
    assert (code, out.split(":")[0]) == (0, "never_merge")
    assert "acme.de + acme.com" in out
    code, out, _ = rex("overrides", "list", "--format", "json")
    assert out.strip() == '{\n  "data": []\n}'
    code, _, err = rex("overrides", "merge", ADA, "acme.com")
    assert code == 1 and "a pair names one kind" in err


def test_a_file_that_cannot_be_written_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("a file where the folder should be", encoding="utf-8")
    with pytest.raises(OverridesError, match=r"cannot write .*overrides\.yaml"):
        record_decision(tmp_path / "data" / "overrides.yaml", "must_merge", ADA, ADA_PERSONAL)


def test_a_folder_where_the_file_should_be_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "overrides.yaml").mkdir()
    with pytest.raises(OverridesError, match="cannot be read"):
        decisions(tmp_path / "overrides.yaml")
