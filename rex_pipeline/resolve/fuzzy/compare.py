"""Comparisons of contact pairs: named levels, match weights, evidence and conflicts.

`score_pairs` takes candidate pairs of node rows and returns, for every comparison, the level
that applied, its weight and (for fuzzy ones) the similarity; then the match weight, the match
probability (`score`) and `conflict`: strong evidence that the two are different people, which
keeps a pair from ever merging automatically whatever its score.
"""

from __future__ import annotations

import polars as pl
from rapidfuzz import fuzz
from rapidfuzz.distance import OSA, JaroWinkler, Levenshtein

from rex_pipeline.resolve.fuzzy.contact_weights import (
    COMPANY,
    EMAIL,
    FIRST_NAME,
    LAST_NAME,
    LINKEDIN,
    PHONE,
    TITLE,
    scale_bits,
    with_population,
)
from rex_pipeline.resolve.fuzzy.features import (
    ContactFeatures,
    made_from_full_name,
    made_from_name,
)
from rex_pipeline.resolve.fuzzy.given_names import common_given_names, same_gender_pairs
from rex_pipeline.resolve.fuzzy.model import probability
from rex_pipeline.resolve.fuzzy.nicknames import (
    known_first_names,
    name_groups_column,
    nickname_match,
)
from rex_pipeline.resolve.fuzzy.similarity import pairwise
from rex_pipeline.resolve.fuzzy.spelling import (
    SpellingCounts,
    both_established,
    one_edit_apart,
    typo_of,
)

_COMPATIBLE_FIRST = ["exact", "nickname", "typo", "similar", "initial"]
_COMPATIBLE_LAST = ["exact", "typo", "similar"]


def _sides(feats: ContactFeatures, pairs: pl.DataFrame) -> pl.DataFrame:
    """Both nodes' features side by side, but for the nickname groups: lists are costly to
    copy to every pair, and `_names` reads them for distinct spellings only."""
    nodes = feats.nodes.drop("fn_groups")
    a = nodes.select(pl.all().name.suffix("_a"))
    b = nodes.select(pl.all().name.suffix("_b"))
    return pairs.join(a, left_on="a", right_on="idx_a").join(b, left_on="b", right_on="idx_b")


#: Endings that turn a name into another person's name (Paul -> Paula, Daniel -> Danielle,
#: Justin -> Justine); diminutives (Tom -> Tommy, Jess -> Jessie) are not among them.
_OTHER_NAME_ENDINGS = ["a", "e", "na", "ne", "ina", "ine", "elle", "ella", "ette", "ia", "o"]


def _other_form(short: pl.Expr, long: pl.Expr) -> pl.Expr:
    """True when `long` is `short` plus an ending that makes it a different given name."""
    ending = long.str.slice(short.str.len_chars())
    return (
        (short.str.len_chars() >= 3)
        & long.str.starts_with(short)
        & ending.is_in(_OTHER_NAME_ENDINGS)
    ).fill_null(False)


def _with_counts(frame: pl.DataFrame, counts: pl.DataFrame, column: str) -> pl.DataFrame:
    """`<column>_n_a/_b`: how many nodes of the population carry each side's spelling."""
    for side in ("a", "b"):
        named = counts.rename({"value": f"{column}_{side}", "n": f"{column}_n_{side}"})
        frame = frame.join(named, on=f"{column}_{side}", how="left")
    return frame


def _typo(column: str) -> pl.Expr:
    """One side's spelling reads as a one-off typo of the other's (spelling.typo_of)."""
    return typo_of(pl.col(f"{column}_n_a"), pl.col(f"{column}_n_b"), pl.col(f"{column}_edits"))


def _both_established(column: str) -> pl.Expr:
    """Both spellings are names of their own (spelling.both_established)."""
    return both_established(pl.col(f"{column}_n_a"), pl.col(f"{column}_n_b")).fill_null(False)


def _established_tf(column: str) -> pl.Expr:
    """The frequency adjustment of the more common of the two spellings. (Only a common name
    is counted down for it: a one-off spelling next to a rare name may as well be another
    rare name as its typo, so a rare source earns no more than an average one.)"""
    return (
        pl.when(pl.col(f"{column}_n_a") >= pl.col(f"{column}_n_b"))
        .then(pl.col(f"{column}_tf_a"))
        .otherwise(pl.col(f"{column}_tf_b"))
    )


def _plus_s(a: pl.Expr, b: pl.Expr) -> pl.Expr:
    """`b` is `a` with a trailing s (Robert / Roberts)."""
    return ((a.str.len_chars() >= 3) & (b == a + "s")).fill_null(False)


def _typo_across_genders(frame: pl.DataFrame, counts: pl.DataFrame) -> pl.Series:
    """For each pair: the rarer first name reads as a typo (spelling.typo_of) of common given
    names that are all of one gender, and the other side's name is of the other (Micchael,
    Michael misspelt, even when the typo recurs, next to Michelle): a typo counts as the name
    it misspells, so two people."""
    rarer_a = pl.col("fn_n_a").fill_null(0) <= pl.col("fn_n_b").fill_null(0)
    named = frame.select(
        rarer=pl.when(rarer_a).then("fn_a").otherwise("fn_b"),
        other=pl.when(rarer_a).then("fn_b").otherwise("fn_a"),
        near=(pl.col("first_name_sim") >= 0.88) & (pl.col("fn_a") != pl.col("fn_b")),
    )
    combos = named.filter("near").select("rarer", "other").unique()
    n = counts.select(rarer="value", n_rarer="n")
    sources = (
        one_edit_apart(combos["rarer"], common_given_names())
        .rename({"value": "rarer"})
        .join(n, on="rarer")
        .join(counts.select(source="value", n_source="n"), on="source")
        .filter(typo_of(pl.col("n_rarer"), pl.col("n_source"), pl.lit(1)))
    )
    candidates = combos.join(sources.select("rarer", "source"), on="rarer")
    fits = same_gender_pairs(candidates, "source", "other").with_columns(fits=pl.lit(True))
    crossed = (
        candidates.join(fits, on=["rarer", "other", "source"], how="left")
        .group_by("rarer", "other")
        .agg(crossed=~pl.col("fits").fill_null(False).any())
    )
    joined = named.join(crossed, on=["rarer", "other"], how="left", maintain_order="left")
    return (joined["crossed"] & joined["near"]).fill_null(False)


def _other_family_typo(frame: pl.DataFrame) -> pl.Series:
    """For each pair: the rarer last name is one edit from the other and also from the other
    with a trailing s added or dropped, and has an s more or less (Hamiltosn next to Hamilton:
    Hamiltons misspelt as well; Kalasenars next to Kalasenard): Robert and Roberts are two
    families, so the typo may be either's and is not read as the other's."""
    rarer_a = pl.col("ln_n_a").fill_null(0) <= pl.col("ln_n_b").fill_null(0)
    rarer = pl.when(rarer_a).then("ln_a").otherwise("ln_b")
    other = pl.when(rarer_a).then("ln_b").otherwise("ln_a")
    family = (
        pl.when(other.str.ends_with("s"))
        .then(other.str.slice(0, other.str.len_chars() - 1))
        .otherwise(other + "s")
    )
    esses = rarer.str.count_matches("s") != other.str.count_matches("s")
    sides = frame.select(
        rarer=pl.when(esses & (pl.col("ln_edits") == 1)).then(rarer), family=family
    )
    return (pairwise(sides, "rarer", "family", OSA.distance) == 1).fill_null(False)


def _first_name_levels(pairs: pl.DataFrame, counts: pl.DataFrame) -> pl.DataFrame:
    """fn_a, fn_b and the first-name level with what decided it, for distinct spelling
    pairs (with their nickname groups)."""
    frame = _with_counts(pairs, counts, "fn")
    frame = frame.with_columns(
        first_name_sim=pairwise(frame, "fn_a", "fn_b", JaroWinkler.normalized_similarity),
        fn_edits=pairwise(frame, "fn_a", "fn_b", OSA.distance),
    )
    frame = frame.with_columns(fn_typo_crossed=_typo_across_genders(frame, counts))
    fa, fb = pl.col("fn_a"), pl.col("fn_b")
    known = known_first_names().implode()
    both_known = fa.is_in(known) & fb.is_in(known)
    # a rare spelling that is a name the package knows is no typo (Mario next to Maria)
    rarer_known = pl.when(pl.col("fn_n_a") <= pl.col("fn_n_b")).then(fa).otherwise(fb).is_in(known)
    first = (
        pl.when(fa.is_null() | fb.is_null())
        .then(pl.lit("missing"))
        .when(fa == fb)
        .then(pl.lit("exact"))
        .when(_other_form(fa, fb) | _other_form(fb, fa))
        .then(pl.lit("different"))
        .when(nickname_match(fa, fb, pl.col("fn_groups_a"), pl.col("fn_groups_b")))
        .then(pl.lit("nickname"))
        .when((pl.col("first_name_sim") >= 0.88) & _typo("fn") & ~rarer_known)
        .then(pl.lit("typo"))
        .when(
            (pl.col("first_name_sim") >= 0.88)
            & (both_known | _both_established("fn") | pl.col("fn_typo_crossed"))
        )
        .then(pl.lit("another known name"))
        .when(pl.col("first_name_sim") >= 0.88)
        .then(pl.lit("similar"))
        .when(
            ((fa.str.len_chars() == 1) | (fb.str.len_chars() == 1))
            & (fa.str.slice(0, 1) == fb.str.slice(0, 1))
        )
        .then(pl.lit("initial"))
        .otherwise(pl.lit("different"))
    )
    return frame.select(
        "fn_a",
        "fn_b",
        "fn_n_a",
        "fn_n_b",
        "first_name_sim",
        "fn_edits",
        "fn_typo_crossed",
        first_name_level=first,
    )


def _last_name_levels(pairs: pl.DataFrame, counts: pl.DataFrame) -> pl.DataFrame:
    """ln_a, ln_b and the last-name level with what decided it, for distinct spelling
    pairs."""
    frame = _with_counts(pairs, counts, "ln")
    frame = frame.with_columns(
        last_name_sim=pairwise(frame, "ln_a", "ln_b", JaroWinkler.normalized_similarity),
        ln_edits=pairwise(frame, "ln_a", "ln_b", OSA.distance),
    )
    frame = frame.with_columns(ln_other_family=_other_family_typo(frame))
    la, lb = pl.col("ln_a"), pl.col("ln_b")
    last = (
        pl.when(la.is_null() | lb.is_null())
        .then(pl.lit("missing"))
        .when(la == lb)
        .then(pl.lit("exact"))
        .when(_plus_s(la, lb) | _plus_s(lb, la))
        .then(pl.lit("another family name"))
        .when((pl.col("last_name_sim") >= 0.9) & _typo("ln") & ~pl.col("ln_other_family"))
        .then(pl.lit("typo"))
        .when((pl.col("last_name_sim") >= 0.9) & _both_established("ln"))
        .then(pl.lit("another family name"))
        .when(pl.col("last_name_sim") >= 0.9)
        .then(pl.lit("similar"))
        .otherwise(pl.lit("different"))
    )
    return frame.select(
        "ln_a",
        "ln_b",
        "ln_n_a",
        "ln_n_b",
        "last_name_sim",
        "ln_edits",
        "ln_other_family",
        last_name_level=last,
    )


def _names(frame: pl.DataFrame, counts: SpellingCounts, groups: pl.DataFrame) -> pl.DataFrame:
    """First and last name levels and weights. A level depends on the two spellings alone
    (their counts, similarity and nickname groups, `groups`: fn, fn_groups, a function of
    the spelling), so it is worked out once per distinct pair of spellings and joined back:
    a few thousand first-name pairs stand for hundreds of thousands of candidate pairs, and
    the list operations of the nickname test are what a level costs."""
    first = (
        frame.select("fn_a", "fn_b")
        .unique()
        .join(groups.select(fn_a="fn", fn_groups_a="fn_groups"), on="fn_a", how="left")
        .join(groups.select(fn_b="fn", fn_groups_b="fn_groups"), on="fn_b", how="left")
    )
    last = frame.select("ln_a", "ln_b").unique()
    frame = frame.join(
        _first_name_levels(first, counts.first),
        on=["fn_a", "fn_b"],
        how="left",
        nulls_equal=True,
        maintain_order="left",
    ).join(
        _last_name_levels(last, counts.last),
        on=["ln_a", "ln_b"],
        how="left",
        nulls_equal=True,
        maintain_order="left",
    )

    def adjustment(name: str, column: str) -> pl.Expr:
        level = pl.col(f"{name}_level")
        return (
            pl.when(level == "exact")
            .then(pl.col(f"{column}_tf_a"))
            .when(level == "typo")
            .then(_established_tf(column).clip(upper_bound=0.0))
            .otherwise(0.0)
            .fill_null(0.0)
        )

    return frame.with_columns(
        first_name_weight=FIRST_NAME.weight_expr(pl.col("first_name_level"))
        + adjustment("first_name", "fn"),
        last_name_weight=LAST_NAME.weight_expr(pl.col("last_name_level"))
        + adjustment("last_name", "ln"),
    )


_EMAIL_LEVELS = [level.label for level in EMAIL.levels]
_OTHER_WORK_ADDRESS = _EMAIL_LEVELS.index("another address at the same work domain")


def owned_mailboxes(feats: ContactFeatures, nodes: pl.Series) -> pl.DataFrame:
    """The addresses of `nodes` with `from_name`: made from the owner's own name (or a form
    of it), so a namesake would likely have the same one. A caller scoring many chunks of
    pairs works these out once for all their nodes and hands them to `score_pairs`."""
    involved = feats.nodes.filter(pl.col("idx").is_in(nodes.implode())).select("idx", "fn", "ln")
    owners = involved.with_columns(
        firsts=name_groups_column(involved["fn"], related=True).fill_null([])
    )
    emails = feats.emails.join(owners, on="idx")
    from_name = made_from_name(pl.col("letters"), pl.col("fn"), pl.col("ln"), pl.col("firsts"))
    return emails.select(
        "idx",
        "local",
        "letters",
        "domain",
        "is_free",
        "ln",
        "firsts",
        from_name=from_name,
        given_box=_given_name_mailbox(pl.col("letters"), pl.col("ln")),
        nameless=pl.col("fn").is_null() & pl.col("ln").is_null(),
    )


def _given_name_mailbox(letters: pl.Expr, last: pl.Expr) -> pl.Expr:
    """The given name a mailbox is made from, with the node's last name, in either order
    (carolfernandez, fernandezcarol -> carol), when it is a known given name: perhaps not the
    node's own name (its record may misspell it). Null otherwise."""
    known = known_first_names().implode()
    n = last.str.len_chars()
    head = letters.str.slice(0, letters.str.len_chars() - n)
    tail = letters.str.slice(n)
    return (
        pl.when((n >= 2) & letters.str.ends_with(last) & head.is_in(known))
        .then(head)
        .when((n >= 2) & letters.str.starts_with(last) & tail.is_in(known))
        .then(tail)
    )


def _given_names_across_genders(combos: pl.DataFrame) -> pl.Series:
    """For each combination of two addresses: they are made from a man's and a woman's given
    name (carl_fernandez@ / carol_fernandez@): two people's mailboxes, not one typo apart."""
    names = combos.select(left="given_box_a", right="given_box_b")
    distinct = names.drop_nulls().unique()
    fits = same_gender_pairs(distinct, "left", "right").with_columns(fits=pl.lit(True))
    joined = names.join(fits, on=["left", "right"], how="left", maintain_order="left")
    return joined["left"].is_not_null() & joined["right"].is_not_null() & joined["fits"].is_null()


def _spelt_names(combos: pl.DataFrame, firsts: pl.DataFrame) -> pl.DataFrame:
    """combo, from_other_name: for the combinations of a nameless side and a named one, the
    nameless side's address spells the other's first and last name (any other combination
    is False: the caller fills it in). `firsts`: idx, firsts (each node's name forms)."""
    one_named = combos.filter(pl.col("nameless_a") != pl.col("nameless_b")).select(
        "combo", "a", "b", "letters_a", "letters_b", "ln_a", "ln_b", "nameless_a", "nameless_b"
    )
    sides = one_named.join(
        firsts.rename({"idx": "a", "firsts": "firsts_a"}), on="a", how="left"
    ).join(firsts.rename({"idx": "b", "firsts": "firsts_b"}), on="b", how="left")
    return sides.select(
        "combo",
        from_other_name=(
            pl.col("nameless_a")
            & ~pl.col("nameless_b")
            & made_from_full_name(pl.col("letters_a"), pl.col("ln_b"), pl.col("firsts_b"))
        )
        | (
            pl.col("nameless_b")
            & ~pl.col("nameless_a")
            & made_from_full_name(pl.col("letters_b"), pl.col("ln_a"), pl.col("firsts_a"))
        ),
    )


def _emails(
    frame: pl.DataFrame, feats: ContactFeatures, owned: pl.DataFrame | None
) -> pl.DataFrame:
    """Best email level over every combination of the two nodes' addresses, plus whether any
    combination is two different mailboxes at one work domain. `owned`: `owned_mailboxes` of
    (at least) the pairs' nodes, when the caller has them."""
    nodes = pl.concat([frame["a"], frame["b"]]).unique()
    if owned is None:
        owned = owned_mailboxes(feats, nodes)
    else:
        owned = owned.filter(pl.col("idx").is_in(nodes.implode()))
    # the name forms (lists) are read only where one side has no name: not copied to every
    # combination
    addresses = owned.drop("firsts")
    combos = (
        frame.select("pair", "a", "b")
        .join(addresses.select(pl.all().name.suffix("_a")), left_on="a", right_on="idx_a")
        .join(addresses.select(pl.all().name.suffix("_b")), left_on="b", right_on="idx_b")
        .with_row_index("combo")
    )
    combos = combos.join(
        _spelt_names(combos, owned.select("idx", "firsts").unique("idx")), on="combo", how="left"
    ).with_columns(pl.col("from_other_name").fill_null(False))
    combos = combos.with_columns(given_names_across_genders=_given_names_across_genders(combos))
    same_domain = pl.col("domain_a") == pl.col("domain_b")
    # edit distance only where it can matter: two different mailboxes at one domain
    differ = combos.filter(same_domain & (pl.col("local_a") != pl.col("local_b")))
    edits = differ.select(
        "combo", edits=pairwise(differ, "local_a", "local_b", Levenshtein.distance)
    )
    combos = combos.join(edits, on="combo", how="left")
    from_name_a, from_name_b = pl.col("from_name_a"), pl.col("from_name_b")
    same = pl.col("local_a") == pl.col("local_b")
    long_enough = (
        pl.min_horizontal(pl.col("local_a").str.len_chars(), pl.col("local_b").str.len_chars()) >= 5
    )
    one_edit = ((pl.col("edits") <= 1) & long_enough).fill_null(False)
    same_letters = (pl.col("letters_a") == pl.col("letters_b")) & (
        pl.col("letters_a").str.len_chars() >= 5
    )
    personal_and_work = pl.col("is_free_a") != pl.col("is_free_b")
    # john.smith@ and john.smith2@ at one company: the second John Smith got a number
    stem_a = pl.col("local_a").str.replace(r"\d+$", "")
    numbered_copy = (stem_a == pl.col("local_b").str.replace(r"\d+$", "")) & (
        stem_a.str.len_chars() >= 2
    )
    from_other_name = pl.col("from_other_name")
    across_genders = pl.col("given_names_across_genders")
    code = (
        pl.when(same & ~from_name_a & ~from_name_b)
        .then(0)
        .when(from_other_name)
        .then(1)
        .when(same & personal_and_work)
        .then(2)
        .when(same)
        .then(3)
        .when(one_edit & same_domain & ~(from_name_a & from_name_b) & ~across_genders)
        .then(4)
        .when(same_domain & ~pl.col("is_free_a"))
        .then(_OTHER_WORK_ADDRESS)
        .when((one_edit | same_letters) & ~(from_name_a & from_name_b) & ~across_genders)
        .then(6)
        .otherwise(7)
    )
    best = (
        combos.with_columns(code=code)
        .group_by("pair")
        .agg(
            pl.col("code").min().alias("code"),
            (pl.col("code") == _OTHER_WORK_ADDRESS).any().alias("other_work_address"),
            (same_domain & ~pl.col("is_free_a") & ~same).any().alias("work_mailboxes_differ"),
            (same_domain & ~pl.col("is_free_a") & ~same & numbered_copy)
            .any()
            .alias("numbered_copy"),
        )
    )
    frame = frame.join(best, on="pair", how="left")
    labels = dict(enumerate(_EMAIL_LEVELS[:-1]))
    level = (
        pl.when(pl.col("code").is_null())
        .then(pl.lit("missing"))
        .otherwise(pl.col("code").replace_strict(labels, return_dtype=pl.String))
    )
    return frame.with_columns(
        email_level=level,
        email_sim=pl.lit(None, pl.Float64),
        other_work_address=pl.col("other_work_address").fill_null(False),
        work_mailboxes_differ=pl.col("work_mailboxes_differ").fill_null(False),
        numbered_copy=pl.col("numbered_copy").fill_null(False),
    ).with_columns(
        email_weight=EMAIL.weight_expr(pl.col("email_level"))
        + pl.when(pl.col("email_level") == "made from the other's name")
        .then(_named_side_tf())
        .otherwise(0.0)
    )


def _named_side_tf() -> pl.Expr:
    """Frequency adjustments of the first and last name of the side that has them."""
    a_named = pl.col("ln_a").is_not_null()
    first = pl.when(a_named).then(pl.col("fn_tf_a")).otherwise(pl.col("fn_tf_b"))
    last = pl.when(a_named).then(pl.col("ln_tf_a")).otherwise(pl.col("ln_tf_b"))
    return (first.fill_null(0.0) + last.fill_null(0.0)).fill_null(0.0)


def _phones(frame: pl.DataFrame, feats: ContactFeatures) -> pl.DataFrame:
    phones = feats.phones
    pa = frame.select("pair", "a").join(phones, left_on="a", right_on="idx").select("pair", "phone")
    pb = frame.select("pair", "b").join(phones, left_on="b", right_on="idx").select("pair", "phone")
    shared = pa.join(pb, on=["pair", "phone"], how="semi")["pair"].unique().implode()
    has_a, has_b = pa["pair"].unique().implode(), pb["pair"].unique().implode()
    level = (
        pl.when(pl.col("pair").is_in(shared) & pl.col("other_work_address"))
        .then(pl.lit("same office number"))
        .when(
            pl.col("pair").is_in(shared)
            & (
                pl.col("last_name_level").is_in(["another family name", "different"])
                | pl.col("first_name_level").is_in(["another known name", "different"])
            )
        )
        .then(pl.lit("same number, other names"))
        .when(pl.col("pair").is_in(shared))
        .then(pl.lit("same number"))
        .when(pl.col("pair").is_in(has_a) & pl.col("pair").is_in(has_b))
        .then(pl.lit("different numbers"))
        .otherwise(pl.lit("missing"))
    )
    return frame.with_columns(phone_level=level, phone_sim=pl.lit(None, pl.Float64)).with_columns(
        phone_weight=PHONE.weight_expr(pl.col("phone_level"))
    )


def _others(frame: pl.DataFrame) -> pl.DataFrame:
    la, lb = pl.col("linkedin_a"), pl.col("linkedin_b")
    linkedin = (
        pl.when(la.is_null() | lb.is_null())
        .then(pl.lit("missing"))
        .when(la == lb)
        .then(pl.lit("same profile"))
        .otherwise(pl.lit("different profiles"))
    )
    frame = frame.with_columns(
        cname_a=pl.coalesce(
            pl.col("company_a"), pl.col("company_domain_a").str.extract(r"^([^.]+)")
        ),
        cname_b=pl.coalesce(
            pl.col("company_b"), pl.col("company_domain_b").str.extract(r"^([^.]+)")
        ),
    )
    frame = frame.with_columns(
        company_sim=pairwise(frame, "cname_a", "cname_b", JaroWinkler.normalized_similarity),
        title_sim=pairwise(frame, "title_a", "title_b", fuzz.token_sort_ratio) / 100,
    )
    # two different company domains are two companies (as company resolution has it), however
    # alike their names: muller.de's Müller GmbH is not muller-bau.de's Müller Bau
    two_domains = (pl.col("company_domain_a") != pl.col("company_domain_b")).fill_null(False)
    company = (
        pl.when(pl.col("company_domain_a") == pl.col("company_domain_b"))
        .then(pl.lit("same domain"))
        .when(two_domains)
        .then(pl.lit("different"))
        .when(pl.col("cname_a") == pl.col("cname_b"))
        .then(pl.lit("same name"))
        .when(pl.col("company_sim") >= 0.92)
        .then(pl.lit("similar name"))
        .when(pl.col("cname_a").is_not_null() & pl.col("cname_b").is_not_null())
        .then(pl.lit("different"))
        .otherwise(pl.lit("missing"))
    )
    title = (
        pl.when(pl.col("title_sim").is_null())
        .then(pl.lit("missing"))
        .when(pl.col("title_sim") >= 0.9)
        .then(pl.lit("similar"))
        .otherwise(pl.lit("different"))
    )
    frame = frame.with_columns(
        linkedin_level=linkedin,
        linkedin_sim=pl.lit(None, pl.Float64),
        company_level=company,
        title_level=title,
    )
    return frame.with_columns(
        linkedin_weight=LINKEDIN.weight_expr(pl.col("linkedin_level")),
        company_weight=COMPANY.weight_expr(pl.col("company_level")),
        title_weight=TITLE.weight_expr(pl.col("title_level")),
    )


def conflict_expr() -> pl.Expr:
    """Strong evidence of two different people; a conflicting pair never merges by itself
    and a cluster never holds two conflicting nodes."""
    names_fit = pl.col("first_name_level").is_in(_COMPATIBLE_FIRST) & pl.col(
        "last_name_level"
    ).is_in(_COMPATIBLE_LAST)
    # look-alike colleagues (Stenner / Stenners, Eric / Erica at one company) have look-alike
    # mailboxes too; one person's typo in the name and another in the address is far rarer
    look_alike = pl.col("last_name_level").is_in(["similar", "another family name"]) | pl.col(
        "first_name_level"
    ).is_in(["similar", "another known name"])
    # Maria and Mario (Carol and Carl) Zelavicin at one company are two colleagues or
    # relatives, however rare the family name
    other_given_name = pl.col("first_name_level").is_in(["another known name", "different"])
    same_company = pl.col("company_level").is_in(["same domain", "same name"])
    return (
        pl.when(pl.col("linkedin_level") == "different profiles")
        .then(pl.lit("different LinkedIn profiles"))
        .when((pl.col("phone_level") == "different numbers") & ~names_fit)
        .then(pl.lit("different phone numbers and dissimilar names"))
        .when(pl.col("numbered_copy"))
        .then(pl.lit("a numbered copy of the other's address at the same work domain"))
        .when(pl.col("other_work_address") & ~names_fit)
        .then(pl.lit("different addresses at the same work domain and dissimilar names"))
        .when(pl.col("work_mailboxes_differ") & look_alike)
        .then(pl.lit("different addresses at the same work domain and look-alike names"))
        .when(pl.col("other_work_address") & (pl.col("first_name_level") != "exact"))
        .then(pl.lit("different addresses at the same work domain and other first names"))
        .when(other_given_name & same_company)
        .then(pl.lit("two given names at the same company"))
        .alias("conflict")
    )


def score_pairs(
    feats: ContactFeatures,
    pairs: pl.DataFrame,
    spellings: SpellingCounts | None = None,
    owned: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Every comparison's level/weight/sim columns, `match_weight`, `score` and `conflict`
    for `pairs` (integer columns a, b; other columns are kept). The population is the
    nodes of `feats`; `spellings` overrides its name counts (when `feats` are a few nodes of
    a larger population); `owned`: `owned_mailboxes` of the pairs' nodes, if already known."""
    scale = scale_bits(feats.population)
    counts = spellings or feats.spellings  # of the whole population, before narrowing down
    feats = feats.only(pl.concat([pairs["a"], pairs["b"]]))
    frame = _sides(feats, pairs.with_row_index("pair"))
    groups = feats.nodes.select("fn", "fn_groups").unique("fn").drop_nulls("fn")
    frame = _others(_phones(_emails(_names(frame, counts, groups), feats, owned), feats))
    return with_population(frame, scale).with_columns(
        score=probability(pl.col("match_weight")), conflict=conflict_expr()
    )
