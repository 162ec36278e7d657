"""rex.yaml validation: a wrong value fails naming the file, the field and the problem, rather
than running with the value ignored."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import pytest

from rex_pipeline.config import ConfigError, SurvivorshipField, load_settings
from rex_pipeline.merge import survivorship


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rex.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("resolution:\n  survivorship:\n    tittle: newest\n", "resolution.survivorship.tittle"),
        ("resolution:\n  survivorship:\n    title: latest\n", "resolution.survivorship.title"),
        ("default_phone_region: XX\n", "'XX' is not a region phonenumbers knows"),
        ("resolution:\n  merge_threshold: 0.4\n", "review_threshold must not exceed"),
        ("gmail:\n  skip_spam: true\n", "gmail.skip_spam: Extra inputs are not permitted"),
    ],
    ids=["unknown-field", "unknown-rule", "unknown-region", "thresholds", "unknown-key"],
)
def test_a_wrong_value_fails_naming_file_and_field(tmp_path: Path, text: str, problem: str) -> None:
    path = _config(tmp_path, text)
    with pytest.raises(ConfigError, match="invalid configuration in") as failure:
        load_settings(path)
    assert str(path) in str(failure.value)
    assert problem in str(failure.value)


def test_a_region_is_read_in_any_case_and_the_file_is_remembered(tmp_path: Path) -> None:
    path = _config(tmp_path, "default_phone_region: gb\n")
    settings = load_settings(path)
    assert settings.default_phone_region == "GB"
    assert settings.config_file == path


def test_survivorship_names_exactly_the_fields_the_fold_knows() -> None:
    assert set(get_args(SurvivorshipField)) == set(survivorship._CONTACT_FIELDS)


def test_a_bad_value_from_the_environment_or_the_run_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _config(tmp_path, "org_id: acme\n")
    with pytest.raises(ConfigError, match=r"org_id \(from the run's config\): .*must not be blank"):
        load_settings(path, org_id="  ")
    monkeypatch.setenv("REX_ORG_ID", " ")
    with pytest.raises(ConfigError, match=r"org_id \(from REX_ORG_ID\): .*must not be blank"):
        load_settings(path)
