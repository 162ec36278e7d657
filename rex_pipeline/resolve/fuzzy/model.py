"""The vocabulary of the match model, borrowed from Fellegi-Sunter (and Splink).

A *comparison* looks at one aspect of two records (first name, email, phone ...) and decides
which of its named *comparison levels* applies ("nickname", "one typo apart" ...). Each level
carries a *match weight*: log2 of how much more often that outcome is seen for two records of
the same person than for two different people. A pair's match weight is the prior weight plus
the weights of its levels; the match probability is 2^w / (1 + 2^w). Weights were set by hand
from those odds and checked against the seeded benchmark (benchmarks/resolution_bench.py), so
every score can be read back as a sum of named reasons. Names get term-frequency adjustments
(Smith agreeing says less than Lovelace), and the prior follows the population size
(contact_weights.scale_bits): the more people, the more namesakes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from rex_pipeline.resolve.fuzzy.profiles import EVIDENCE_FIELD, PAIR_COLUMNS


@dataclass(frozen=True)
class Level:
    label: str
    weight: float  # match weight in bits
    meaning: str


@dataclass(frozen=True)
class Comparison:
    name: str
    levels: tuple[Level, ...]

    def weights(self) -> dict[str, float]:
        return {level.label: level.weight for level in self.levels}

    def weight_expr(self, level: pl.Expr) -> pl.Expr:
        """Match weight of a level column."""
        return level.replace_strict(self.weights(), return_dtype=pl.Float64)


def empty_pairs(comparisons: Sequence[Comparison]) -> pl.DataFrame:
    """A pair frame with no rows and every column, evidence included."""
    evidence_type = pl.Struct({comp.name: EVIDENCE_FIELD for comp in comparisons})
    return pl.DataFrame(schema={**PAIR_COLUMNS, "evidence": evidence_type})


def probability(match_weight: pl.Expr) -> pl.Expr:
    """Match probability from a match weight (bits)."""
    odds = pl.lit(2.0).pow(match_weight.clip(-60, 60))
    return odds / (1 + odds)


def evidence(comparisons: Sequence[Comparison]) -> pl.Expr:
    """One struct column with the level, weight and similarity of every comparison, read from
    the columns `<name>_level`, `<name>_weight`, `<name>_sim`."""
    fields = []
    for comp in comparisons:
        fields.append(
            pl.struct(
                level=pl.col(f"{comp.name}_level"),
                weight=pl.col(f"{comp.name}_weight"),
                similarity=pl.col(f"{comp.name}_sim").cast(pl.Float64),
            )
            .cast(EVIDENCE_FIELD)
            .alias(comp.name)
        )
    return pl.struct(fields).alias("evidence")


def reasons(comparisons: Sequence[Comparison]) -> pl.Expr:
    """ "first_name nickname (+4.5); last_name exact (+7.0); ..." for every level that moved
    the score, in model order."""
    parts = []
    for comp in comparisons:
        weight = pl.col(f"{comp.name}_weight")
        sign = pl.when(weight >= 0).then(pl.lit("+")).otherwise(pl.lit(""))
        text = pl.concat_str(
            [
                pl.lit(f"{comp.name} "),
                pl.col(f"{comp.name}_level"),
                pl.lit(" ("),
                sign,
                weight.round(1).cast(pl.String),
                pl.lit(")"),
            ]
        )
        parts.append(pl.when(weight != 0).then(text))
    return pl.concat_str(parts, separator="; ", ignore_nulls=True).alias("reasons")


def total_weight(prior: float, comparisons: Sequence[Comparison]) -> pl.Expr:
    return (pl.lit(prior) + pl.sum_horizontal([f"{c.name}_weight" for c in comparisons])).alias(
        "match_weight"
    )


def decision(score: pl.Expr, conflict: pl.Expr, merge_at: float, review_at: float) -> pl.Expr:
    """merge (auto), review (a person decides) or no match; a conflict is never auto-merged."""
    return (
        pl.when((score >= merge_at) & conflict.is_null())
        .then(pl.lit("merge"))
        .when(score >= review_at)
        .then(pl.lit("review"))
        .otherwise(pl.lit("no match"))
        .alias("decision")
    )


def pair_frame(
    scored: pl.DataFrame,
    node_ids: pl.DataFrame,
    comparisons: Sequence[Comparison],
    merge_at: float,
    review_at: float,
) -> pl.DataFrame:
    """The public pair frame: scored pairs at or above the review threshold, with node ids
    (`node_ids`: idx, node_id; node_a < node_b), decision, reasons and evidence."""
    kept = scored.filter(pl.col("score") >= review_at)
    ids = node_ids.select("idx", id="node_id")
    kept = kept.join(ids.rename({"idx": "a", "id": "id_a"}), on="a").join(
        ids.rename({"idx": "b", "id": "id_b"}), on="b"
    )
    if "blocking_rules" not in kept.columns:
        kept = kept.with_columns(blocking_rules=pl.lit([], pl.List(pl.String)))
    return kept.select(
        node_a=pl.min_horizontal("id_a", "id_b"),
        node_b=pl.max_horizontal("id_a", "id_b"),
        score="score",
        match_weight="match_weight",
        decision=decision(pl.col("score"), pl.col("conflict"), merge_at, review_at),
        conflict="conflict",
        reasons=reasons(comparisons),
        blocking_rules="blocking_rules",
        evidence=evidence(comparisons),
    ).sort("node_a", "node_b")


def explanation(
    row: dict[str, object], comparisons: Sequence[Comparison], merge_at: float, review_at: float
) -> dict[str, object]:
    """A scored pair row as a plain dict: score, decision, conflict, reasons and per field the
    level, its weight, similarity and what the level means."""
    score = float(row["score"])  # type: ignore[arg-type]
    conflict = row.get("conflict")
    if score >= merge_at and conflict is None:
        verdict = "merge"
    elif score >= review_at:
        verdict = "review"
    else:
        verdict = "no match"
    fields = {}
    for comp in comparisons:
        label = str(row[f"{comp.name}_level"])
        meaning = next(level.meaning for level in comp.levels if level.label == label)
        fields[comp.name] = {
            "level": label,
            "weight": float(row[f"{comp.name}_weight"]),  # type: ignore[arg-type]
            "similarity": row.get(f"{comp.name}_sim"),
            "meaning": meaning,
        }
    return {
        "score": score,
        "match_weight": float(row["match_weight"]),  # type: ignore[arg-type]
        "decision": verdict,
        "conflict": conflict,
        "reasons": row["reasons"],
        "evidence": fields,
    }
