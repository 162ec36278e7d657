"""Per-run fixed costs of normalising stay out of small batches: tables that can be read from
a library's index are not built by loading all of its data."""

from __future__ import annotations

import phonenumbers
import pytest
from phonenumbers import PhoneMetadata

from rex_pipeline.normalise import phones


def _metadata_based() -> set[int]:
    """The definition the code table stands for: a country code with region metadata."""
    codes = set()
    for cc, regions in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items():
        if any(PhoneMetadata.metadata_for_region(r) for r in regions if r != "001"):
            codes.add(cc)
    return codes


def test_geographic_country_codes_without_loading_region_metadata(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loaded: list[str] = []
    real = PhoneMetadata.metadata_for_region
    monkeypatch.setattr(
        PhoneMetadata, "metadata_for_region", lambda r, *a: loaded.append(r) or real(r, *a)
    )
    phones._country_codes.cache_clear()
    codes = phones._country_codes()
    assert loaded == []
    monkeypatch.undo()
    got = {int(c) for series in codes.values() for c in series.to_list()}
    assert got == _metadata_based()
    assert {1, 44, 49, 353} <= got and 800 not in got  # +800 is non-geographic
    assert all(len(c) == n for n, series in codes.items() for c in series.to_list())
