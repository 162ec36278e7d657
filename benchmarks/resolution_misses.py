"""Why identity resolution misses people and merges the wrong ones, on seeded benchmark data.

    .venv/bin/python benchmarks/resolution_misses.py --rows 100000 [--seed 7] [--examples 4]

Runs the same exact stand-in + fuzzy linking as resolution_bench.py, then looks at the truth:

* missed links: two clusters holding rows of one person. Each such split is put in one
  category by its best node pair: merge-grade but kept apart by a conflict found in a chain,
  a conflict of its own, the review band, scored below review, or never proposed by blocking
  (then scored anyway, to see what evidence it had). Counts are in row pairs (the unit of
  pairwise recall) and in splits;
* for each category, its most frequent level patterns and a few examples;
* calibration: the share of true pairs among candidate pairs, by score;
* false merges: merge edges between two different people by level pattern, and every edge
  between hard negatives (namesakes, look-alike colleagues) with its reasons.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import exact_adapter as exact
from benchmarks.resolution_bench import ensure_data
from rex_pipeline.config import Settings
from rex_pipeline.resolve.fuzzy import cluster
from rex_pipeline.resolve.fuzzy.blocking import candidate_pairs, rule_names, rules_of
from rex_pipeline.resolve.fuzzy.compare import score_pairs
from rex_pipeline.resolve.fuzzy.contact_weights import CONTACT_COMPARISONS
from rex_pipeline.resolve.fuzzy.contacts import NAME_BLOCK_CAPS, SCORE_CHUNK, contact_block_keys
from rex_pipeline.resolve.fuzzy.features import ContactFeatures, contact_features
from rex_pipeline.resolve.fuzzy.model import pair_frame

LEVELS = [f"{c.name}_level" for c in CONTACT_COMPARISONS]
SHORT = {"first_name": "fn", "last_name": "ln", "email": "em", "phone": "ph", "company": "co",
         "title": "ti"}  # fmt: skip


@dataclass
class Run:
    profiles: pl.DataFrame
    feats: ContactFeatures
    scored: pl.DataFrame  # every candidate pair, scored, with `rules`
    owner: pl.DataFrame  # idx, person_id (the person most of the node's rows belong to)
    node_rows: pl.DataFrame  # idx, person_id, n: rows of each person in each node
    clusters: pl.DataFrame  # idx, cluster_id
    merges: pl.DataFrame  # merge-grade pairs: a, b, score, reasons


def _score(feats: ContactFeatures, pairs: pl.DataFrame) -> pl.DataFrame:
    keep = ["a", "b", "score", "match_weight", "conflict", *LEVELS]
    keep += [f"{c.name}_{part}" for c in CONTACT_COMPARISONS for part in ("weight", "sim")]
    keep += ["rule_mask"] if "rule_mask" in pairs.columns else []
    parts = [score_pairs(feats, chunk).select(keep) for chunk in pairs.iter_slices(SCORE_CHUNK)]
    return pl.concat(parts)


def resolve(rows: int, seed: int, settings: Settings) -> tuple[Run, pl.DataFrame]:
    """Exact nodes, candidate pairs (all scored) and clusters; also the persons frame."""
    res = settings.resolution
    paths = ensure_data(rows, seed)
    raw = pl.read_parquet(paths["contacts"])
    clean = exact.clean_contacts(raw.drop("person_id", "company_id"))
    row_node = exact.exact_nodes(clean)
    profiles = exact.contact_profiles(clean, row_node, is_new=True)
    feats = contact_features(profiles)
    idx_of = feats.nodes.select("idx", "node_id")
    node_rows = (
        row_node.join(raw.select("row", "person_id"), on="row")
        .join(profiles.select("node", "node_id").join(idx_of, on="node_id"), on="node")
        .group_by("idx", "person_id")
        .agg(n=pl.len())
    )
    owner = node_rows.sort("n", descending=True).unique("idx", keep="first").drop("n")
    keys = contact_block_keys(feats)
    pairs, stats = candidate_pairs(keys, res.max_block_size, NAME_BLOCK_CAPS)
    print(f"nodes {feats.nodes.height:,}, {stats}")
    scored = _score(feats, pairs).with_columns(
        rules=rules_of(pl.col("rule_mask"), rule_names(keys))
    )
    frame = pair_frame(
        scored, idx_of, CONTACT_COMPARISONS, res.merge_threshold, res.review_threshold
    )
    clusters = cluster(profiles, frame, None, settings).join(idx_of, on="node_id")
    merges = (
        frame.filter(pl.col("decision") == "merge")
        .join(idx_of.rename({"node_id": "node_a", "idx": "a"}), on="node_a")
        .join(idx_of.rename({"node_id": "node_b", "idx": "b"}), on="node_b")
        .select("a", "b", "score", "reasons")
    )
    run = Run(
        profiles=profiles.join(idx_of, on="node_id"),
        feats=feats,
        scored=scored,
        owner=owner,
        node_rows=node_rows,
        clusters=clusters.select("idx", "cluster_id"),
        merges=merges,
    )
    return run, pl.read_parquet(paths["persons"])


def splits(run: Run) -> pl.DataFrame:
    """person_id, cluster_id, cluster_id_b, row_pairs: the row pairs of one person that
    ended in two clusters."""
    per_cluster = (
        run.node_rows.join(run.clusters, on="idx").group_by("person_id", "cluster_id").agg(
            n=pl.col("n").sum()
        )
    )  # fmt: skip
    return (
        per_cluster.join(per_cluster, on="person_id", suffix="_b")
        .filter(pl.col("cluster_id") < pl.col("cluster_id_b"))
        .select(
            "person_id",
            "cluster_id",
            "cluster_id_b",
            row_pairs=pl.col("n").cast(pl.Int64) * pl.col("n_b"),
        )
    )


def categorise(run: Run, split: pl.DataFrame, merge_at: float, review_at: float) -> pl.DataFrame:
    """One row per split: its best node pair (proposed pairs first, then by score, unproposed
    ones scored now) and the category that explains why it stayed apart."""
    mine = run.owner.join(run.clusters, on="idx")
    node_pairs = (
        split.join(mine.rename({"idx": "x"}), on=["person_id", "cluster_id"])
        .join(mine.rename({"idx": "y", "cluster_id": "cluster_id_b"}),
              on=["person_id", "cluster_id_b"])
        .with_columns(a=pl.min_horizontal("x", "y"), b=pl.max_horizontal("x", "y"))
        .drop("x", "y")
    )  # fmt: skip
    proposed = node_pairs.join(run.scored, on=["a", "b"])
    unproposed = node_pairs.join(run.scored.select("a", "b"), on=["a", "b"], how="anti")
    rescored = _score(run.feats, unproposed.select("a", "b").unique())
    both = pl.concat(
        [
            proposed.with_columns(proposed=pl.lit(True)),
            unproposed.join(rescored, on=["a", "b"]).with_columns(
                proposed=pl.lit(False), rules=pl.lit([], pl.List(pl.String))
            ),
        ],
        how="diagonal_relaxed",
    )
    merge_grade, reviewed = pl.col("score") >= merge_at, pl.col("score") >= review_at
    no_conflict, was = pl.col("conflict").is_null(), pl.col("proposed")
    category = (
        pl.when(was & merge_grade & no_conflict)
        .then(pl.lit("merge-grade, kept apart in clustering"))
        .when(was & ~no_conflict & reviewed)
        .then(pl.lit("conflict: ") + pl.col("conflict"))
        .when(was & reviewed)
        .then(pl.lit("review band"))
        .when(was)
        .then(pl.lit("proposed, below review"))
        .when(merge_grade)
        .then(pl.lit("never proposed, would merge"))
        .when(reviewed)
        .then(pl.lit("never proposed, review band"))
        .otherwise(pl.lit("never proposed, below review"))
    )
    return (
        both.with_columns(category=category)
        .sort(["proposed", "score"], descending=True)
        .unique(["person_id", "cluster_id", "cluster_id_b"], keep="first")
    )


def pattern() -> pl.Expr:
    """The levels of a pair in one line (LinkedIn left out: it rarely decides)."""
    return pl.concat_str(
        [pl.lit(f"{short}=") + pl.col(f"{name}_level") for name, short in SHORT.items()],
        separator=" | ",
    )


def describe(profiles: pl.DataFrame) -> pl.DataFrame:
    """idx, desc: one line per node."""
    return profiles.select(
        "idx",
        desc=pl.concat_str(
            [
                pl.col("first_name").fill_null("-"),
                pl.col("last_name").fill_null("-"),
                pl.lit("<") + pl.col("email_keys").list.join(",") + pl.lit(">"),
                pl.lit("co=") + pl.col("company_key").fill_null("-"),
                pl.lit("dom=") + pl.col("company_domain").fill_null("-"),
                pl.lit("ti=") + pl.col("title").fill_null("-"),
                pl.lit("ph=") + pl.col("phones").list.join(","),
            ],
            separator=" ",
        ),
    )


def with_descriptions(frame: pl.DataFrame, desc: pl.DataFrame) -> pl.DataFrame:
    return frame.join(desc.rename({"idx": "a", "desc": "desc_a"}), on="a").join(
        desc.rename({"idx": "b", "desc": "desc_b"}), on="b"
    )


def report_missed(best: pl.DataFrame, missed: int, desc: pl.DataFrame, examples: int) -> None:
    summary = (
        best.group_by("category")
        .agg(row_pairs=pl.col("row_pairs").sum(), splits=pl.len())
        .sort("row_pairs", descending=True)
        .with_columns(share=(pl.col("row_pairs") / max(missed, 1)).round(3))
    )
    print("\n== missed links by category")
    for row in summary.iter_rows(named=True):
        print(f"  {row['row_pairs']:7,} row pairs {row['splits']:6,} splits "
              f"{row['share']:6.1%}  {row['category']}")  # fmt: skip
    for category in summary["category"]:
        part = best.filter(pl.col("category") == category).with_columns(pattern=pattern())
        print(f"\n== {category}: top level patterns (row pairs, splits, mean score)")
        top = (
            part.group_by("pattern")
            .agg(row_pairs=pl.col("row_pairs").sum(), n=pl.len(), mean=pl.col("score").mean())
            .sort("row_pairs", descending=True)
            .head(12)
        )
        for p in top.iter_rows(named=True):
            print(f"  {p['row_pairs']:6} {p['n']:5}  {p['mean']:.3f}  {p['pattern']}")
        sample = part.sample(min(examples, part.height), seed=1)
        for e in with_descriptions(sample, desc).iter_rows(named=True):
            print(f"    score {e['score']:.3f} (w {e['match_weight']:.1f}) rules {e['rules']}")
            print(f"      {e['desc_a']}\n      {e['desc_b']}")


def report_calibration(run: Run) -> None:
    truth = run.owner.rename({"idx": "a", "person_id": "pa"})
    scored = run.scored.join(truth, on="a").join(
        truth.rename({"a": "b", "pa": "pb"}), on="b"
    )  # fmt: skip
    table = (
        scored.group_by(bin=(pl.col("score") * 10).floor() / 10)
        .agg(pairs=pl.len(), true_share=(pl.col("pa") == pl.col("pb")).mean())
        .sort("bin")
    )
    print("\n== calibration: candidate pairs by score, share of one person")
    for row in table.iter_rows(named=True):
        print(f"  {row['bin']:.1f}-{row['bin'] + 0.1:.1f}  {row['pairs']:8,}  "
              f"{row['true_share']:.3f}")  # fmt: skip


def report_false_merges(run: Run, persons: pl.DataFrame, desc: pl.DataFrame) -> None:
    kinds = persons.select("person_id", "kind", hn="hard_negative_of")
    owner = run.owner.join(kinds, on="person_id")
    cl = run.clusters
    wrong = (
        run.merges.join(owner.rename({"idx": "a"}), on="a")
        .join(owner.rename({"idx": "b"}), on="b", suffix="_b")
        .filter(pl.col("person_id") != pl.col("person_id_b"))
        .join(cl.rename({"idx": "a"}), on="a")
        .join(cl.rename({"idx": "b"}), on="b", suffix="_b")
        .with_columns(
            joined=pl.col("cluster_id") == pl.col("cluster_id_b"),
            hard=(pl.col("hn") == pl.col("person_id_b")) | (pl.col("hn_b") == pl.col("person_id")),
        )
        .join(run.scored.select("a", "b", *LEVELS), on=["a", "b"])
    )
    joined, hard_edges = wrong["joined"].sum(), wrong["hard"].sum()
    print(f"\n== false merge edges: {wrong.height} (joined clusters: {joined}, between hard "
          f"negatives: {hard_edges}), by pattern (edges, hard, mean score)")  # fmt: skip
    top = (
        wrong.with_columns(pattern=pattern())
        .group_by("pattern")
        .agg(edges=pl.len(), hard=pl.col("hard").sum(), mean=pl.col("score").mean())
        .sort("edges", descending=True)
        .head(15)
    )
    for p in top.iter_rows(named=True):
        print(f"  {p['edges']:5} {p['hard']:3}  {p['mean']:.3f}  {p['pattern']}")
    hard = with_descriptions(wrong.filter("hard"), desc).sort("score", descending=True)
    print(f"\n== merge edges between hard negatives: {hard.height}")
    for e in hard.iter_rows(named=True):
        kind = e["kind"] or e["kind_b"]
        print(f"  [{kind}] joined={e['joined']} score {e['score']:.3f}: {e['reasons']}")
        print(f"      {e['desc_a']}\n      {e['desc_b']}")


def report_hard_negatives(run: Run, persons: pl.DataFrame, desc: pl.DataFrame) -> None:
    """Every hard-negative pair of persons that shares a cluster, however it got there: one
    exact node holding rows of both (the exact stage joined them), or a chain of merge edges
    (each edge printed with the persons its two nodes mostly hold)."""
    hard = persons.filter(pl.col("hard_negative_of") >= 0).select(
        "person_id", "kind", other="hard_negative_of"
    )
    where = run.node_rows.join(run.clusters, on="idx").select("idx", "person_id", "cluster_id")
    shared = (
        hard.join(where.unique(["person_id", "cluster_id"]), on="person_id")
        .join(
            where.unique(["person_id", "cluster_id"]).rename({"person_id": "other"}),
            on=["other", "cluster_id"],
        )
        .select("person_id", "other", "kind", "cluster_id")
        .unique(["person_id", "other"])
        .sort("person_id")
    )
    print(f"\n== hard-negative pairs sharing a cluster: {shared.height}")
    owner = dict(run.owner.iter_rows())
    text = dict(desc.iter_rows())
    for p, q, kind, cid in shared.iter_rows():
        both = where.filter(pl.col("person_id").is_in([p, q]))
        one_node = (
            both.group_by("idx").agg(n=pl.col("person_id").n_unique()).filter(pl.col("n") > 1)
        )
        how = "one exact node" if one_node.height else "merge edges"
        print(f"  [{kind}] persons {p} / {q}: {how}")
        nodes = run.clusters.filter(pl.col("cluster_id") == cid)["idx"]
        for e in run.merges.filter(
            pl.col("a").is_in(nodes.implode()) & pl.col("b").is_in(nodes.implode())
        ).iter_rows(named=True):
            a, b = e["a"], e["b"]
            print(f"    {e['score']:.3f} {owner.get(a)} ~ {owner.get(b)}: {e['reasons']}")
            print(f"      {text[a]}\n      {text[b]}")
        for (i,) in one_node.select("idx").iter_rows():
            print(f"    node {i}: {text[i]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--examples", type=int, default=4)
    args = parser.parse_args()
    settings = Settings()
    res = settings.resolution
    run, persons = resolve(args.rows, args.seed, settings)
    per_person = run.node_rows.group_by("person_id").agg(pl.col("n").sum())["n"].cast(pl.Int64)
    truth_pairs = int((per_person * (per_person - 1) // 2).sum())
    split = splits(run)
    missed = int(split["row_pairs"].sum())
    print(f"true row pairs {truth_pairs:,}, missed {missed:,} "
          f"(recall {1 - missed / truth_pairs:.4f})")  # fmt: skip
    desc = describe(run.profiles)
    best = categorise(run, split, res.merge_threshold, res.review_threshold)
    report_missed(best, missed, desc, args.examples)
    report_calibration(run)
    report_false_merges(run, persons, desc)
    report_hard_negatives(run, persons, desc)


if __name__ == "__main__":
    main()
