"""Fuzzy linking of company nodes.

A domain is a company's identity: the exact stage already joined records with the same domain
(and name-only records whose name key is unique). Here, names link what the exact keys could
not: "Acme Analytcs" and "Acme Analytics", "Data Dog" and "Datadog". Two companies with
different domains never merge on name alone: that pair carries a conflict and at best goes to
review, and a domain-less company whose name fits several domain companies is ambiguous and
goes to review as well.

Blocking rules: name (matching form), squashed (without spaces), first_word (first word of at
least 3 letters; catches typos later in the name).
"""

from __future__ import annotations

import logging

import polars as pl
from rapidfuzz.distance import JaroWinkler

from rex_pipeline.config import ResolutionSettings, Settings
from rex_pipeline.resolve.fuzzy import text
from rex_pipeline.resolve.fuzzy.blocking import block_keys, candidate_pairs, rule_names, rules_of
from rex_pipeline.resolve.fuzzy.model import (
    Comparison,
    Level,
    empty_pairs,
    pair_frame,
    probability,
    total_weight,
)
from rex_pipeline.resolve.fuzzy.profiles import COMPANY_PROFILE, conform
from rex_pipeline.resolve.fuzzy.similarity import pairwise

log = logging.getLogger(__name__)

COMPANY_PRIOR_WEIGHT = -8.0

COMPANY_NAME = Comparison(
    "name",
    (
        Level("exact", 14.0, "same name once legal forms, case and punctuation are removed"),
        Level("same without spaces", 12.0, "Data Dog / Datadog"),
        Level("similar", 10.0, "Jaro-Winkler similarity >= 0.95 (a typo)"),
        Level("different", -8.0, "different names"),
        Level("missing", 0.0, "no name on one side"),
    ),
)
COMPANY_DOMAIN = Comparison(
    "domain",
    (
        Level("same", 6.0, "same registrable domain"),
        Level("different", -6.0, "different domains: different companies, never auto-merged"),
        Level("missing", 0.0, "no domain on one side"),
    ),
)
COMPANY_COMPARISONS = (COMPANY_NAME, COMPANY_DOMAIN)


def company_features(profiles: pl.DataFrame) -> pl.DataFrame:
    frame = conform(profiles, COMPANY_PROFILE).with_row_index("idx")
    frame = frame.with_columns(
        company=text.on_unique(
            frame.select(pl.coalesce("name_key", "name")).to_series(), text.company_name
        )
    )
    name = pl.col("company")
    return frame.select(
        "idx",
        "node_id",
        pl.col("is_new").fill_null(True),
        "created_at",
        name=name,
        squashed=name.str.replace_all(" ", ""),
        first_word=name.str.extract(r"^(\S{3,})"),
        domain=pl.col("domain").str.to_lowercase().str.strip_chars(),
    )


def company_block_keys(nodes: pl.DataFrame) -> pl.DataFrame:
    return pl.concat(
        [
            block_keys(nodes, "name", pl.col("name")),
            block_keys(nodes, "squashed", pl.col("squashed")),
            block_keys(nodes, "first_word", pl.col("first_word")),
        ]
    )


def score_company_pairs(nodes: pl.DataFrame, pairs: pl.DataFrame) -> pl.DataFrame:
    a = nodes.select(pl.all().name.suffix("_a"))
    b = nodes.select(pl.all().name.suffix("_b"))
    frame = (
        pairs.with_row_index("pair")
        .join(a, left_on="a", right_on="idx_a")
        .join(b, left_on="b", right_on="idx_b")
    )
    frame = frame.with_columns(
        name_sim=pairwise(frame, "name_a", "name_b", JaroWinkler.normalized_similarity),
        domain_sim=pl.lit(None, pl.Float64),
    )
    na, nb, da, db = pl.col("name_a"), pl.col("name_b"), pl.col("domain_a"), pl.col("domain_b")
    name = (
        pl.when(na.is_null() | nb.is_null())
        .then(pl.lit("missing"))
        .when(na == nb)
        .then(pl.lit("exact"))
        .when(pl.col("squashed_a") == pl.col("squashed_b"))
        .then(pl.lit("same without spaces"))
        .when(pl.col("name_sim") >= 0.95)
        .then(pl.lit("similar"))
        .otherwise(pl.lit("different"))
    )
    domain = (
        pl.when(da.is_null() | db.is_null())
        .then(pl.lit("missing"))
        .when(da == db)
        .then(pl.lit("same"))
        .otherwise(pl.lit("different"))
    )
    frame = frame.with_columns(name_level=name, domain_level=domain).with_columns(
        name_weight=COMPANY_NAME.weight_expr(pl.col("name_level")),
        domain_weight=COMPANY_DOMAIN.weight_expr(pl.col("domain_level")),
    )
    conflict = (
        pl.when(pl.col("domain_level") == "different")
        .then(pl.lit("different domains"))
        .alias("conflict")
    )
    return frame.with_columns(total_weight(COMPANY_PRIOR_WEIGHT, COMPANY_COMPARISONS)).with_columns(
        score=probability(pl.col("match_weight")), conflict=conflict
    )


#: Why a merge-grade pair of companies goes to review all the same (`_ambiguous`).
AMBIGUOUS = "ambiguous: the name fits companies with different domains"


def _ambiguous(result: pl.DataFrame, nodes: pl.DataFrame) -> pl.DataFrame:
    """A domain-less company whose merge partners have two or more different domains could be
    any of them: its merges become review items."""
    domains = nodes.select(node="node_id", domain="domain")
    edges = result.filter(pl.col("decision") == "merge")
    sides = pl.concat(
        [
            edges.select(node="node_a", other="node_b"),
            edges.select(node="node_b", other="node_a"),
        ]
    )
    counted = (
        sides.join(domains, on="node", how="left")
        .filter(pl.col("domain").is_null())
        .join(domains.rename({"node": "other", "domain": "other_domain"}), on="other", how="left")
        .group_by("node")
        .agg(pl.col("other_domain").drop_nulls().n_unique().alias("domains"))
        .filter(pl.col("domains") >= 2)["node"]
        .implode()
    )
    touched = pl.col("node_a").is_in(counted) | pl.col("node_b").is_in(counted)
    return result.with_columns(
        decision=pl.when(touched & (pl.col("decision") == "merge"))
        .then(pl.lit("review"))
        .otherwise(pl.col("decision")),
        reasons=pl.when(touched & (pl.col("decision") == "merge"))
        .then(pl.col("reasons") + pl.lit(f"; {AMBIGUOUS}"))
        .otherwise(pl.col("reasons")),
    )


def find_company_pairs(company_profiles: pl.DataFrame, settings: Settings) -> pl.DataFrame:
    """Scored pairs of company nodes at or above `review_threshold` (same columns as
    `find_candidate_pairs`), at least one node new."""
    res = settings.resolution
    if not res.fuzzy or company_profiles.is_empty():
        return empty_pairs(COMPANY_COMPARISONS)
    return company_pairs(company_features(company_profiles), res)


def company_pairs(nodes: pl.DataFrame, res: ResolutionSettings) -> pl.DataFrame:
    """`find_company_pairs` of nodes whose features are computed (`company_features`)."""
    keys = company_block_keys(nodes)
    if keys.is_empty():  # no names (companies known by their domain only)
        return empty_pairs(COMPANY_COMPARISONS)
    pairs, stats = candidate_pairs(keys, res.max_block_size)
    # rule names only for the pairs kept (pair_frame drops those below review_threshold)
    scored = (
        score_company_pairs(nodes, pairs)
        .filter(pl.col("score") >= res.review_threshold)
        .with_columns(blocking_rules=rules_of(pl.col("rule_mask"), rule_names(keys)))
    )
    result = pair_frame(
        scored,
        nodes.select("idx", "node_id"),
        COMPANY_COMPARISONS,
        res.merge_threshold,
        res.review_threshold,
    )
    result = _ambiguous(result, nodes)
    log.info(
        "companies: %d nodes, %d candidate pairs, %d merge, %d review",
        nodes.height,
        stats["pairs"],
        (result["decision"] == "merge").sum(),
        (result["decision"] == "review").sum(),
    )
    return result
