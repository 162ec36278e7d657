"""Contact and company profiles for the fuzzy-resolution tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import polars as pl

from rex_pipeline.config import ResolutionSettings, Settings
from rex_pipeline.resolve.fuzzy.profiles import COMPANY_PROFILE, CONTACT_PROFILE, frame_of

# The unit tests pin the thresholds they were written against (strict: merge 0.92, review
# 0.75), so that a change of the shipped defaults in rex.yaml does not change their meaning.
SETTINGS = Settings(resolution=ResolutionSettings(merge_threshold=0.92, review_threshold=0.75))


def person(node_id: str, first: str | None, last: str | None, *emails: str, **extra: Any) -> dict:
    """A contact profile; email_domains follow the keys, created_at defaults to 2024."""
    return {
        "node_id": node_id,
        "is_new": extra.pop("is_new", True),
        "created_at": extra.pop("created_at", datetime(2024, 1, 1, tzinfo=UTC)),
        "first_name": first,
        "last_name": last,
        "email_keys": list(emails),
        "email_domains": [e.split("@")[1] for e in emails],
        "phones": extra.pop("phones", []),
        **extra,
    }


def contacts(*rows: dict) -> pl.DataFrame:
    return frame_of(list(rows), CONTACT_PROFILE)


def company(node_id: str, name: str, name_key: str, domain: str | None, **extra: Any) -> dict:
    return {"node_id": node_id, "name": name, "name_key": name_key, "domain": domain, **extra}


def companies(*rows: dict) -> pl.DataFrame:
    return frame_of(list(rows), COMPANY_PROFILE)


def crowd(size: int, names: dict[str, int] | None = None) -> pl.DataFrame:
    """A name population: `size` people of unique made-up names, plus `names`
    ({"Maria Lopez": 5}) repeated that many times."""
    n = pl.int_range(size, eager=True).cast(pl.String)
    people = pl.DataFrame(
        {
            "node_id": "p" + n,
            "first_name": "First" + (n.cast(pl.Int64) % 500).cast(pl.String),
            "last_name": "Last" + n,
        }
    )
    extra = [
        {"node_id": f"x{full}{i}", "first_name": full.split()[0], "last_name": full.split()[1]}
        for full, count in (names or {}).items()
        for i in range(count)
    ]
    return pl.concat([people, pl.DataFrame(extra)]) if extra else people


def pair_of(pairs: pl.DataFrame, a: str, b: str) -> dict | None:
    found = pairs.filter((pl.col("node_a") == min(a, b)) & (pl.col("node_b") == max(a, b)))
    return found.row(0, named=True) if found.height else None
