"""Decisions people made about pairs, honoured by every run (data/overrides.yaml).

`must_merge` pairs merge whatever the evidence says; `never_merge` pairs stay apart whatever
the evidence says (and win over a must_merge chain that would join them). A pair names two
entities by id (cont_…, comp_…), by email address (contacts) or by domain (companies).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

Pair = tuple[str, str]


class OverridesError(ValueError):
    """The overrides file is unreadable or malformed; the message names the file and entry."""


class Overrides(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    must_merge: tuple[Pair, ...] = ()
    never_merge: tuple[Pair, ...] = ()

    @field_validator("must_merge", "never_merge", mode="before")
    @classmethod
    def _pairs(cls, value: Any) -> Any:
        if value is None:
            return ()
        if not isinstance(value, list | tuple):
            raise ValueError("must be a list of pairs")
        pairs = []
        for number, entry in enumerate(value, start=1):
            if isinstance(entry, dict):
                entry = [entry.get("a"), entry.get("b")]
            if not isinstance(entry, list | tuple) or len(entry) != 2:
                raise ValueError(f"entry {number}: expected two references, got {entry!r}")
            a, b = (str(ref).strip() if ref is not None else "" for ref in entry)
            if not a or not b:
                raise ValueError(f"entry {number}: a reference is blank")
            if _normal(a) == _normal(b):
                raise ValueError(f"entry {number}: both sides are {a!r}")
            pairs.append((_normal(a), _normal(b)))
        return tuple(pairs)

    def canonicalised(self, email_key: Callable[[str], str | None]) -> Overrides:
        """The same overrides with email references turned into matching keys by the
        pipeline's own email canonicaliser (so "Ada.Lovelace@gmail.com" finds the node whose
        key is "adalovelace@gmail.com")."""

        def ref(value: str) -> str:
            return (email_key(value) or value) if "@" in value else value

        return Overrides(
            must_merge=tuple((ref(a), ref(b)) for a, b in self.must_merge),
            never_merge=tuple((ref(a), ref(b)) for a, b in self.never_merge),
        )


def _normal(ref: str) -> str:
    """Emails and domains compare case-insensitively; ids (cont_…) are kept as written."""
    return ref.lower() if "@" in ref or "." in ref else ref


def load_overrides(path: str | Path) -> Overrides:
    """Read an overrides file; a missing file means no overrides."""
    path = Path(path)
    if not path.exists():
        return Overrides()
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise OverridesError(f"{path}: not valid YAML: {exc}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise OverridesError(f"{path}: cannot be read: {exc}") from exc
    if not isinstance(loaded, dict):
        raise OverridesError(f"{path}: the top level must be a mapping")
    try:
        return Overrides.model_validate(loaded)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise OverridesError(f"{path}: {problems}") from exc


@dataclass
class ResolvedOverrides:
    """Overrides as pairs of node ids of this run."""

    must: list[Pair] = field(default_factory=list)
    never: list[Pair] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)  # references no node of this run has
    unsatisfiable: list[Pair] = field(default_factory=list)  # never_merge inside one node


def _reference_table(nodes: pl.DataFrame) -> pl.DataFrame:
    """ref -> node_id for ids, email keys (contacts) and domains (companies)."""
    tables = [nodes.select(ref="node_id", node="node_id")]
    if "email_keys" in nodes.columns:
        tables.append(
            nodes.select(ref=pl.col("email_keys"), node="node_id")
            .explode("ref")
            .drop_nulls()
            .with_columns(pl.col("ref").str.to_lowercase())
        )
    if "domain" in nodes.columns:
        tables.append(
            nodes.select(ref=pl.col("domain").str.to_lowercase(), node="node_id").drop_nulls()
        )
    return pl.concat(tables).unique()


def resolve_overrides(overrides: Overrides | None, nodes: pl.DataFrame) -> ResolvedOverrides:
    """Turn references into node ids of `nodes`; pairs whose sides are not both present are
    skipped (reported in `unmatched`)."""
    resolved = ResolvedOverrides()
    if overrides is None:
        return resolved
    table = _reference_table(nodes)
    for kind, pairs in (("must", overrides.must_merge), ("never", overrides.never_merge)):
        if not pairs:
            continue
        frame = pl.DataFrame(
            {"ref_a": [a for a, _ in pairs], "ref_b": [b for _, b in pairs]},
            schema={"ref_a": pl.String, "ref_b": pl.String},
        )
        found = frame.join(table.rename({"ref": "ref_a", "node": "a"}), on="ref_a").join(
            table.rename({"ref": "ref_b", "node": "b"}), on="ref_b"
        )
        refs = pl.Series("ref", [r for pair in pairs for r in pair], dtype=pl.String)
        missing = refs.to_frame().join(table, on="ref", how="anti")["ref"].unique().sort()
        resolved.unmatched += [r for r in missing.to_list() if r not in resolved.unmatched]
        for a, b in found.select("a", "b").unique().sort("a", "b").iter_rows():
            if a == b:
                if kind == "never":
                    resolved.unsatisfiable.append((a, b))
                continue
            getattr(resolved, kind).append((min(a, b), max(a, b)))
    return resolved
