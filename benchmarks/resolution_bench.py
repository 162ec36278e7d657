"""Quality and speed of identity resolution on seeded data with ground truth, with Splink 5
side by side.

    .venv/bin/python benchmarks/resolution_bench.py --rows 100000            # ours + Splink
    .venv/bin/python benchmarks/resolution_bench.py --rows 1000000 --no-splink
    .venv/bin/python benchmarks/resolution_bench.py --rows 1000000 --incremental 10000 --no-splink

Data comes from benchmarks/generate_people.py (cached as parquet in benchmarks/out/). Each
engine runs in its own process so its time and peak memory (ru_maxrss) are its own. Pairwise
precision/recall/F1 count pairs of input rows put in one cluster, against the true person (or
company). Hard negatives: namesakes at other companies and look-alike colleagues at the same
one; a pair of such people sharing a cluster counts as merged.

"ours" = exact-key grouping (benchmarks/exact_adapter.py, a stand-in for the pipeline's
normalise + exact stages) + find_candidate_pairs + cluster. Splink 5 (DuckDB backend, optional
`bench` extra) gets the same clean rows, its library comparisons and the usual training
(random-sampling u, EM on two blocking rules), predicting and clustering at the same
merge threshold.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import exact_adapter as exact
from benchmarks.generate_people import generate
from rex_pipeline.config import Settings
from rex_pipeline.resolve.fuzzy import (
    build_contact_index,
    cluster,
    cluster_stats,
    find_candidate_pairs,
    find_company_pairs,
)

OUT = Path(__file__).resolve().parent / "out"
SWEEP: list[float] = []  # extra merge thresholds to evaluate (--sweep)


# --- data ---------------------------------------------------------------------------------
def data_paths(rows: int, seed: int) -> dict[str, Path]:
    stem = f"people_{rows}_{seed}"
    return {k: OUT / f"{stem}_{k}.parquet" for k in ("contacts", "companies", "persons")}


def ensure_data(rows: int, seed: int) -> dict[str, Path]:
    paths = data_paths(rows, seed)
    if not all(p.exists() for p in paths.values()):
        OUT.mkdir(parents=True, exist_ok=True)
        data = generate(rows, seed=seed)
        # shuffled, so that the last rows of a file are a realistic "new batch"
        data.contacts.sample(fraction=1.0, shuffle=True, seed=seed).write_parquet(paths["contacts"])
        data.companies.write_parquet(paths["companies"])
        data.persons.write_parquet(paths["persons"])
    return paths


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- ours ---------------------------------------------------------------------------------
def resolve_rows(clean: pl.DataFrame, settings: Settings) -> tuple[pl.DataFrame, dict]:
    """row -> label for contact rows: exact nodes, then fuzzy links between nodes."""
    timings = {}
    t = time.perf_counter()
    row_node = exact.exact_nodes(clean)
    profiles = exact.contact_profiles(clean, row_node, is_new=True)
    timings["exact_s"] = time.perf_counter() - t
    t = time.perf_counter()
    pairs = find_candidate_pairs(profiles, settings)
    timings["pairs_s"] = time.perf_counter() - t
    t = time.perf_counter()
    clusters = cluster(profiles, pairs, None, settings)
    timings["cluster_s"] = time.perf_counter() - t
    timings["resolve_s"] = timings["exact_s"] + timings["pairs_s"] + timings["cluster_s"]
    labels = row_node.join(
        profiles.select("node", "node_id").join(clusters, on="node_id"), on="node"
    ).select("row", label="cluster_id")
    for threshold in SWEEP:  # the same pairs clustered at other merge thresholds
        redecided = pairs.with_columns(
            decision=pl.when((pl.col("score") >= threshold) & pl.col("conflict").is_null())
            .then(pl.lit("merge"))
            .otherwise(pl.lit("review"))
        )
        other = cluster(profiles, redecided, None, settings)
        labels = labels.join(
            row_node.join(
                profiles.select("node", "node_id").join(other, on="node_id"), on="node"
            ).select("row", pl.col("cluster_id").alias(f"label_{threshold}")),
            on="row",
        )
    stats = cluster_stats(clusters, pairs)
    timings["nodes"] = profiles.height
    timings["merge_pairs"] = int((pairs["decision"] == "merge").sum())
    timings["review_pairs"] = int((pairs["decision"] == "review").sum())
    timings["largest_cluster"] = stats["largest_cluster"]
    timings["suspicious_clusters"] = stats["suspicious_count"]
    timings["merge_pairs_kept_apart"] = stats["merge_pairs_kept_apart"]
    exact_labels = row_node.select("row", exact_label=pl.col("node"))
    return labels.join(exact_labels, on="row"), timings


def resolve_companies(raw: pl.DataFrame, settings: Settings) -> tuple[pl.DataFrame, dict]:
    t = time.perf_counter()
    clean = exact.clean_companies(raw)
    row_node = exact.company_nodes(clean)
    profiles = exact.company_profiles(clean, row_node)
    pairs = find_company_pairs(profiles, settings)
    clusters = cluster(profiles, pairs, None, settings)
    labels = row_node.join(
        profiles.select("node", "node_id").join(clusters, on="node_id"), on="node"
    ).select("row", label="cluster_id", exact_label="node_id")
    return labels, {"companies_s": time.perf_counter() - t, "company_nodes": profiles.height}


def run_ours(paths: dict[str, Path], result: Path) -> dict:
    settings = Settings()
    raw = pl.read_parquet(paths["contacts"]).drop("person_id", "company_id")
    t0 = time.perf_counter()
    clean = exact.clean_contacts(raw)
    info: dict = {"clean_s": time.perf_counter() - t0}
    labels, timings = resolve_rows(clean, settings)
    info |= timings
    info["total_s"] = info["clean_s"] + info["resolve_s"]  # without the threshold sweep
    companies, ctimings = resolve_companies(pl.read_parquet(paths["companies"]), settings)
    info |= ctimings
    info["peak_mb"] = peak_mb()
    labels.write_parquet(result)
    companies.write_parquet(result.with_suffix(".companies.parquet"))
    return info


# --- incremental --------------------------------------------------------------------------
def run_incremental(paths: dict[str, Path], result: Path, new_rows: int) -> dict:
    """Resolve all but the last `new_rows` rows (the warehouse), then add the new rows: their
    exact keys join known entities, and fuzzy resolution pairs only new nodes."""
    settings = Settings()
    raw = pl.read_parquet(paths["contacts"]).drop("person_id", "company_id")
    old_raw, new_raw = raw.head(raw.height - new_rows), raw.tail(new_rows)
    t0 = time.perf_counter()
    old = exact.clean_contacts(old_raw)
    old_labels, _ = resolve_rows(old, settings)
    full_s = time.perf_counter() - t0
    # the warehouse as the pipeline would keep it: entity per row, keys, profiles
    entity = old_labels.select("row", node=pl.col("label").str.slice(1).cast(pl.UInt32))
    warehouse = exact.contact_profiles(old, entity, is_new=False)
    known_keys = exact.contact_keys(old).join(entity, on="row").select("key", "node").unique("key")
    t_index = time.perf_counter()
    index = build_contact_index(warehouse)  # kept between runs by the pipeline
    index_s = time.perf_counter() - t_index
    t1 = time.perf_counter()
    new = exact.clean_contacts(new_raw)
    new_keys = exact.contact_keys(new)
    # rows linked to a known entity carry its id as one more key
    linked = new_keys.join(known_keys, on="key").select(
        "row", key=pl.lit("w:") + pl.col("node").cast(pl.String)
    )
    row_node = exact.components(pl.concat([new_keys, linked]), new["row"])
    # a component holding a known entity becomes that entity (oldest id when several)
    entity_of = (
        row_node.join(
            linked.with_columns(entity=pl.col("key").str.slice(2).cast(pl.UInt32)), on="row"
        )
        .group_by("node")
        .agg(pl.col("entity").min())
    )
    row_node = row_node.join(entity_of, on="node", how="left").select(
        "row", node=pl.coalesce("entity", "node")
    )
    touched = row_node["node"].unique().implode()
    both = pl.concat(
        [old.join(entity, on="row"), new.join(row_node, on="row")], how="diagonal_relaxed"
    )
    touched_rows = both.filter(pl.col("node").is_in(touched))
    updated = exact.contact_profiles(
        touched_rows.drop("node"), touched_rows.select("row", "node"), is_new=True
    )
    profiles = pl.concat(
        [warehouse.filter(~pl.col("node").is_in(touched)), updated], how="diagonal_relaxed"
    )
    t2 = time.perf_counter()
    pairs = find_candidate_pairs(updated, settings, index=index)
    t3 = time.perf_counter()
    clusters = cluster(profiles, pairs, None, settings)
    t4 = time.perf_counter()
    all_rows = both.select("row", "node")
    final = all_rows.join(profiles.select("node", "node_id"), on="node").join(
        clusters, on="node_id"
    )
    final.select("row", label="cluster_id", exact_label=pl.col("node")).write_parquet(result)
    return {
        "full_run_s": full_s,
        "incremental_s": t4 - t1,
        "incremental_exact_s": t2 - t1,
        "incremental_pairs_s": t3 - t2,
        "incremental_cluster_s": t4 - t3,
        "warehouse_nodes": warehouse.height,
        "new_or_touched_nodes": updated.height,
        "incremental_pairs": pairs.height,
        "index_build_s": index_s,
        "peak_mb": peak_mb(),
    }


# --- Splink -------------------------------------------------------------------------------
def run_splink(paths: dict[str, Path], result: Path, threshold: float) -> dict:
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    raw = pl.read_parquet(paths["contacts"]).drop("person_id", "company_id")
    t0 = time.perf_counter()
    clean = exact.clean_contacts(raw)
    clean_s = time.perf_counter() - t0
    # the same cleaning as ours; role mailboxes and filler addresses are no evidence
    frame = clean.select(
        unique_id="row",
        first_name=pl.col("first_name").str.to_lowercase(),
        last_name=pl.col("last_name").str.to_lowercase(),
        email=pl.when(~pl.col("placeholder")).then("email_key"),
        email_local=pl.when(~pl.col("placeholder")).then(
            pl.col("email_key").str.extract(r"^(.*)@").str.replace_all(r"[._-]", "")
        ),
        phone="phone",
        linkedin_url="linkedin_url",
        company_key="company_key",
        company_domain="company_domain",
    )
    t1 = time.perf_counter()
    settings = SettingsCreator(
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=[
            block_on("email"),
            block_on("email_local"),
            block_on("phone"),
            block_on("linkedin_url"),
            block_on("first_name", "last_name"),
            block_on("last_name", "company_domain"),
        ],
        comparisons=[
            cl.NameComparison("first_name"),
            cl.NameComparison("last_name"),
            cl.EmailComparison("email"),
            cl.ExactMatch("phone").configure(term_frequency_adjustments=True),
            cl.ExactMatch("linkedin_url"),
            cl.JaroWinklerAtThresholds("company_key", [0.92]),
            cl.ExactMatch("company_domain"),
        ],
        retain_intermediate_calculation_columns=False,
    )
    db_api = DuckDBAPI()
    sdf = db_api.register(frame.to_arrow())
    linker = Linker(sdf, settings, log_level="WARNING")
    linker.training.estimate_probability_two_random_records_match(
        [block_on("email"), block_on("first_name", "last_name", "company_domain")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("first_name", "last_name")
    )
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("email"))
    t2 = time.perf_counter()
    predictions = linker.inference.predict(threshold_match_probability=threshold)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, threshold)
    labels = (
        clusters.as_duckdbpyrelation()
        .pl()
        .select(row=pl.col("unique_id").cast(pl.UInt32), label=pl.col("cluster_id").cast(pl.String))
    )
    t3 = time.perf_counter()
    labels.write_parquet(result)
    return {
        "clean_s": clean_s,
        "train_s": t2 - t1,
        "predict_cluster_s": t3 - t2,
        "resolve_s": t3 - t1,
        "total_s": t3 - t0,
        "peak_mb": peak_mb(),
    }


# --- evaluation ---------------------------------------------------------------------------
def pairwise(labels: pl.DataFrame, label: str, truth: str) -> dict[str, float]:
    """Pairwise precision/recall/F1 of a clustering against the truth."""

    def pairs(*cols: str) -> int:
        n = labels.group_by(*cols).len()["len"].cast(pl.Int64)
        return int((n * (n - 1) // 2).sum())

    tp, predicted, actual = pairs(label, truth), pairs(label), pairs(truth)
    precision = tp / predicted if predicted else 1.0
    recall = tp / actual if actual else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "false_pairs": predicted - tp}


def hard_negatives_merged(labels: pl.DataFrame, truth: pl.DataFrame, persons: pl.DataFrame) -> int:
    """Pairs (person, the person they were made to look like) that share a cluster."""
    clusters = labels.join(truth, on="row").select("person_id", "label").unique()
    hard = persons.filter(pl.col("hard_negative_of") >= 0).select(
        "person_id", other="hard_negative_of"
    )
    shared = hard.join(clusters, on="person_id").join(
        clusters.rename({"person_id": "other"}), on=["other", "label"]
    )
    return shared.select("person_id", "other").unique().height


def evaluate(result: Path, paths: dict[str, Path], label: str = "label") -> dict:
    truth = pl.read_parquet(paths["contacts"]).select("row", "person_id")
    persons = pl.read_parquet(paths["persons"])
    labels = pl.read_parquet(result).join(truth, on="row")
    out = pairwise(labels, label, "person_id")
    out["hard_negatives_merged"] = hard_negatives_merged(
        labels.select("row", label=label), truth, persons
    )
    return out


def evaluate_companies(result: Path, paths: dict[str, Path], label: str = "label") -> dict:
    truth = pl.read_parquet(paths["companies"]).select("row", "company_id")
    labels = pl.read_parquet(result).join(truth, on="row")
    return pairwise(labels, label, "company_id")


# --- driver -------------------------------------------------------------------------------
def child(engine: str, rows: int, seed: int, extra: list[str]) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--rows",
        str(rows),
        "--seed",
        str(seed),
        "--engine",
        engine,
        *extra,
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{engine} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4f}" if value <= 1 else f"{value:,.1f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-splink", action="store_true")
    parser.add_argument(
        "--sweep", type=float, nargs="*", default=[], help="also cluster at these merge thresholds"
    )
    parser.add_argument("--incremental", type=int, default=0, help="new rows added to the rest")
    parser.add_argument(
        "--engine", choices=["ours", "splink", "incremental"], help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    SWEEP.extend(args.sweep)
    paths = ensure_data(args.rows, args.seed)
    result = OUT / f"labels_{args.engine}_{args.rows}_{args.seed}.parquet"
    if args.engine == "ours":
        print(json.dumps(run_ours(paths, result)))
        return
    if args.engine == "splink":
        print(json.dumps(run_splink(paths, result, Settings().resolution.merge_threshold)))
        return
    if args.engine == "incremental":
        print(json.dumps(run_incremental(paths, result, args.incremental)))
        return

    print(f"rows={args.rows:,} seed={args.seed} (generated data in {OUT})")
    table: dict[str, dict[str, object]] = {}
    sweep = ["--sweep", *map(str, args.sweep)] if args.sweep else []
    ours = child("ours", args.rows, args.seed, sweep)
    ours_labels = OUT / f"labels_ours_{args.rows}_{args.seed}.parquet"
    exact_only = evaluate(ours_labels, paths, "exact_label")
    table["exact keys only"] = {**exact_only}
    table["ours (exact+fuzzy)"] = {**evaluate(ours_labels, paths), **ours}
    for threshold in args.sweep:
        swept = evaluate(ours_labels, paths, f"label_{threshold}")
        table[f"ours, merge at {threshold}"] = swept
    company_labels = ours_labels.with_suffix(".companies.parquet")
    companies = {
        "exact keys only": evaluate_companies(company_labels, paths, "exact_label"),
        "ours (exact+fuzzy)": evaluate_companies(company_labels, paths),
    }
    if not args.no_splink:
        splink = child("splink", args.rows, args.seed, [])
        table["splink 5"] = {
            **evaluate(OUT / f"labels_splink_{args.rows}_{args.seed}.parquet", paths),
            **splink,
        }
    if args.incremental:
        inc = child("incremental", args.rows, args.seed, ["--incremental", str(args.incremental)])
        inc_eval = evaluate(OUT / f"labels_incremental_{args.rows}_{args.seed}.parquet", paths)
        table[f"ours, +{args.incremental:,} incremental"] = {**inc_eval, **inc}
    keys = ["precision", "recall", "f1", "false_pairs", "hard_negatives_merged", "resolve_s",
            "total_s", "peak_mb", "full_run_s", "incremental_s"]  # fmt: skip
    print("\ncontacts (pairwise, rows)")
    print(f"{'':24}" + "".join(f"{k:>24}" for k in table))
    for key in keys:
        if any(key in col for col in table.values()):
            print(f"{key:24}" + "".join(f"{fmt(col.get(key, '')):>24}" for col in table.values()))
    print("\ncompanies (pairwise, rows)")
    print(f"{'':24}" + "".join(f"{k:>24}" for k in companies))
    for key in ["precision", "recall", "f1", "false_pairs"]:
        print(f"{key:24}" + "".join(f"{fmt(col[key]):>24}" for col in companies.values()))
    print("\ndetails")
    for name, col in table.items():
        rest = {
            k: (round(v, 3) if isinstance(v, float) else v) for k, v in col.items() if k not in keys
        }
        print(f"  {name}: {rest}")


if __name__ == "__main__":
    main()
