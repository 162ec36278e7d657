"""How much recall the evidence allows: an upper bound for any scorer of our candidate pairs.

    .venv/bin/python benchmarks/recall_bound.py --rows 100000 [--seed 7]

Scores nothing itself. It takes the candidate pairs that blocking proposes (as
resolution_misses.py does), puts them in buckets by what they show (every comparison's level
and the rounded first- and last-name weights, i.e. how common the names are), and looks up the
truth: each bucket's share of pairs that are one person. An "oracle" that merges every pair of
the buckets whose true share is at least r, then closes the chains (connected components, as
clustering would without its conflict guards), gets the pairwise precision and recall printed
for each r. The shares are measured on the same pairs they are applied to, so the oracle is
better than any real model: its recall at a given precision bounds what reweighting or
recalibrating the model can reach without new evidence. Two rows frame it: exact keys alone
(no fuzzy pair merged), and every candidate pair that is one person merged (a scorer that is
never wrong), whose recall is what blocking leaves within reach at all.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.resolution_misses import Run, resolve
from rex_pipeline.config import Settings
from rex_pipeline.resolve.graph import component_roots

RATES = (0.999, 0.99, 0.98, 0.97, 0.95, 0.9, 0.8)


def bucketed_pairs(run: Run) -> pl.DataFrame:
    """Every candidate pair with `true` (one person), `row_pairs` and its bucket's true share."""
    owner = run.owner
    rows = run.node_rows.group_by("idx").agg(rows=pl.col("n").sum())
    pairs = (
        run.scored.join(owner.rename({"idx": "a", "person_id": "person_a"}), on="a")
        .join(owner.rename({"idx": "b", "person_id": "person_b"}), on="b")
        .join(rows.rename({"idx": "a", "rows": "rows_a"}), on="a")
        .join(rows.rename({"idx": "b", "rows": "rows_b"}), on="b")
        .with_columns(
            true=pl.col("person_a") == pl.col("person_b"),
            first_name_bits=pl.col("first_name_weight").round(0),
            last_name_bits=pl.col("last_name_weight").round(0),
        )
    )
    bucket = [c for c in pairs.columns if c.endswith("_level")] + [
        "first_name_bits",
        "last_name_bits",
    ]
    return pairs.with_columns(share=pl.col("true").mean().over(bucket))


def pairwise(run: Run, persons: pl.DataFrame, edges: pl.DataFrame) -> dict[str, float]:
    """Pairwise precision and recall over rows, and hard-negative pairs merged, when the
    nodes joined by `edges` (a, b) form one cluster per connected component."""
    node_rows = run.node_rows
    size = int(node_rows["idx"].max()) + 1
    roots = component_roots(edges["a"].to_numpy(), edges["b"].to_numpy(), size)
    placed = node_rows.with_columns(
        cluster=pl.col("idx").map_batches(lambda idx: pl.Series(roots[idx.to_numpy()]))
    )

    def pair_count(by: list[str]) -> int:
        k = placed.group_by(by).agg(k=pl.col("n").sum().cast(pl.Int64))["k"]
        return int((k * (k - 1) // 2).sum())

    true_pairs = pair_count(["cluster", "person_id"])
    predicted = pair_count(["cluster"])
    per_person = node_rows.group_by("person_id").agg(k=pl.col("n").sum().cast(pl.Int64))["k"]
    truth = int((per_person * (per_person - 1) // 2).sum())
    clusters = placed.select("cluster", "person_id").unique()
    negatives = persons.filter(pl.col("hard_negative_of") >= 0).select(
        "person_id", other="hard_negative_of"
    )
    merged = (
        negatives.join(clusters, on="person_id")
        .join(clusters.rename({"person_id": "other"}), on=["other", "cluster"])
        .height
    )
    return {
        "precision": true_pairs / max(predicted, 1),
        "recall": true_pairs / max(truth, 1),
        "false_pairs": predicted - true_pairs,
        "hard_negatives_merged": merged,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    settings = Settings()
    run, persons = resolve(args.rows, args.seed, settings)
    pairs = bucketed_pairs(run)
    merge_at = settings.resolution.merge_threshold
    print(f"\n{'merging':<44}{'precision':>10}{'recall':>8}{'false pairs':>13}{'hard neg.':>10}")
    rows = [
        ("exact keys alone (no candidate pair)", pl.repeat(False, pairs.height, eager=True)),
        ("every true candidate pair (blocking's bound)", pairs["true"]),
        (f"our score >= {merge_at} (no conflict guards)", pairs["score"] >= merge_at),
    ]
    rows += [(f"oracle: bucket true share >= {r}", pairs["share"] >= r) for r in RATES]
    for label, chosen in rows:
        m = pairwise(run, persons, pairs.filter(chosen))
        print(
            f"{label:<44}{m['precision']:>10.4f}{m['recall']:>8.4f}"
            f"{m['false_pairs']:>13,}{m['hard_negatives_merged']:>10,}"
        )


if __name__ == "__main__":
    main()
