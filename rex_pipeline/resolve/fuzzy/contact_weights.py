"""The contact match model's weights: every comparison's levels with their match weights, the
prior, and how both follow the size of the population.

The levels themselves are decided in `compare`; the weights live here, in one place, so that the
model can be read (and explained) as a table of named reasons and bits.
"""

from __future__ import annotations

import math

import polars as pl

from rex_pipeline.resolve.fuzzy.model import Comparison, Level, total_weight

#: Match weight of a candidate pair before any comparison: two nodes that share a block key
#: are still far more often different people than not.
PRIOR_WEIGHT = -12.0

#: Population the weights were set for. In a bigger population a name is shared by more
#: people, so before any evidence a pair is less likely one person: the prior drops by
#: log2(nodes / REFERENCE_NODES) bits ("scale"). Evidence that identifies one person whatever
#: the population (a personal number, a distinctive mailbox, a LinkedIn profile) gains the
#: same bits back; name-like evidence does not. Below the reference nothing changes.
REFERENCE_NODES = 10_000

#: Levels whose weight grows with the scale, as an identifier's does.
IDENTIFIER_LEVELS = {
    "email": "same local part",
    "phone": "same number",
    "linkedin": "same profile",
}

#: A shared company narrows the people two names are judged against to its own, whose number
#: does not grow with the warehouse (a bigger warehouse holds more companies, not bigger ones).
#: So for two nodes of one name (first names exact or nicknames, last names exact or a typo)
#: these company levels gain the scale back too. Look-alike names of colleagues do not: the
#: name itself is then in doubt; nor do two different mailboxes at the company's domain, the
#: mark of two namesakes there. At 1M rows of the seeded benchmark this lifted recall from
#: 0.785 to 0.820 at precision 0.9968, no hard negative merged (README, "Resolution").
SAME_NAME_COMPANY_LEVELS = ("same domain", "same name", "similar name")

FIRST_NAME = Comparison(
    "first_name",
    (
        Level(
            "exact",
            6.0,
            "same first name (adjusted by how common it is, or its commonest nickname form)",
        ),
        Level("nickname", 4.5, "nickname of each other (Bob / Robert, Liz / Elizabeth)"),
        Level(
            "typo",
            5.0,
            "one edit from a common name and far rarer (Mlissa / Melissa): counts as that name"
            " (adjusted by how common it is), less a bit for the typo",
        ),
        Level("similar", 1.5, "Jaro-Winkler similarity >= 0.88 (a typo, or a look-alike)"),
        Level("initial", 3.0, "one side is an initial that fits the other"),
        Level(
            "another known name",
            -4.0,
            "two different given names that look alike (Carl / Carol, Michael / Michelle): a"
            " typo rarely makes another real name, a colleague or namesake often has one; so is a"
            " typo of a name of the other gender (Micchael / Michelle)",
        ),
        Level("different", -5.0, "different first names (Paul / Paula counts as different)"),
        Level("missing", 0.0, "no first name on one side"),
    ),
)
LAST_NAME = Comparison(
    "last_name",
    (
        Level("exact", 8.0, "same last name (adjusted by how common it is)"),
        Level(
            "typo",
            7.0,
            "one edit from a name other nodes carry and far rarer (Lovelace / Lovelcae): counts"
            " as that name, less a bit for the typo (adjusted down for a common name, not up"
            " for a rare one: next to a rare name a one-off may as well be another rare name;"
            " not when it is as near the name with an s added or dropped: Hamiltosn / Hamilton)",
        ),
        Level(
            "another family name",
            -3.0,
            "one is the other plus s (Robert / Roberts), or both look-alike spellings are names"
            " of their own, each on several nodes (Johnson / Johnston): two families",
        ),
        Level("similar", 3.0, "Jaro-Winkler similarity >= 0.9 (a typo, or Johnson / Johnston)"),
        Level("different", -5.0, "different last names"),
        Level("missing", 0.0, "no last name on one side"),
    ),
)
EMAIL = Comparison(
    "email",
    (
        Level("same local part", 10.0, "ada.l1815@gmail.com / ada.l1815@acme.com"),
        Level(
            "made from the other's name",
            11.0,
            "one side has no name, and its address spells the other's first and last name"
            " (adalovelace@gmail.com / Ada Lovelace): as good as the two names (adjusted by"
            " how common they are), less a bit",
        ),
        Level(
            "same local part, made from the name, personal and work",
            0.5,
            "ada.lovelace@gmail.com / ada.lovelace@acme.com: what a namesake would have too, so"
            " little beyond the names themselves",
        ),
        Level(
            "same local part, made from the name",
            0.0,
            "two work (or two personal) domains: a job change, or a namesake under the same"
            " address pattern",
        ),
        Level(
            "one typo apart, same domain",
            2.5,
            "ada.lovelac@acme.com / ada.lovelace@acme.com: one edit, not both made from the name"
            " nor from a man's and a woman's given name (carl_fernandez@ / carol_fernandez@)",
        ),
        Level(
            "another address at the same work domain",
            -6.0,
            "two mailboxes at one company domain are usually two people",
        ),
        Level(
            "near-identical local part",
            1.0,
            "the same letters (bigdave77@ / big.dave@), or one edit apart at a free-mail domain"
            " (not both made from the name: ada.lovelace@ / adalovelace84@ is the names again)",
        ),
        Level("different", 0.0, "unrelated addresses: usual for two nodes of one person too"),
        Level("missing", 0.0, "no usable address on one side"),
    ),
)
PHONE = Comparison(
    "phone",
    (
        Level("same number", 10.0, "a shared personal number (shared lines are not evidence)"),
        Level(
            "same number, other names",
            0.0,
            "a number on two names that are two people (Carl / Carol Anderson, Brown / Browns):"
            " a line they share, at home or at work",
        ),
        Level(
            "same office number",
            0.0,
            "the number of two different mailboxes at one company domain: the office line",
        ),
        Level("different numbers", -1.0, "both have numbers, none shared"),
        Level("missing", 0.0, "no personal number on one side"),
    ),
)
LINKEDIN = Comparison(
    "linkedin",
    (
        Level("same profile", 12.0, "same LinkedIn profile URL"),
        Level("different profiles", -10.0, "different LinkedIn profiles: different people"),
        Level("missing", 0.0, "no LinkedIn URL on one side"),
    ),
)
COMPANY = Comparison(
    "company",
    (
        Level("same domain", 6.0, "same company domain"),
        Level("same name", 5.5, "same company name key (or the name of the other's domain)"),
        Level("similar name", 4.5, "company names with Jaro-Winkler similarity >= 0.92"),
        Level("different", -2.0, "different companies (people change jobs)"),
        Level("missing", 0.0, "no company on one side"),
    ),
)
TITLE = Comparison(
    "title",
    (
        Level("similar", 2.0, "token-sorted title similarity >= 0.9"),
        Level("different", -0.5, "titles change with jobs: weak evidence"),
        Level("missing", 0.0, "no title on one side"),
    ),
)
CONTACT_COMPARISONS = (FIRST_NAME, LAST_NAME, EMAIL, PHONE, LINKEDIN, COMPANY, TITLE)


def scale_bits(nodes: int) -> float:
    """log2(nodes / REFERENCE_NODES), never below 0."""
    return max(0.0, math.log2(max(nodes, 1) / REFERENCE_NODES))


def prior_weight(scale: float) -> float:
    """The match weight a candidate pair starts from in a population `scale` bits above the
    reference."""
    return PRIOR_WEIGHT - scale


def with_population(frame: pl.DataFrame, scale: float) -> pl.DataFrame:
    """Pairs with their levels' weights (`<comparison>_weight`) adjusted to a population
    `scale` bits above the reference (identifier levels, and a shared company for one name,
    gain the bits the prior loses) and their `match_weight`."""
    frame = frame.with_columns(
        (
            pl.col(f"{name}_weight")
            + pl.when(pl.col(f"{name}_level") == level).then(scale).otherwise(0.0)
        ).alias(f"{name}_weight")
        for name, level in IDENTIFIER_LEVELS.items()
    )
    one_name = pl.col("first_name_level").is_in(["exact", "nickname"]) & pl.col(
        "last_name_level"
    ).is_in(["exact", "typo"])
    frame = frame.with_columns(
        company_weight=pl.col("company_weight")
        + pl.when(
            one_name
            & pl.col("company_level").is_in(SAME_NAME_COMPANY_LEVELS)
            & ~pl.col("work_mailboxes_differ")
        )
        .then(scale)
        .otherwise(0.0)
    )
    return frame.with_columns(total_weight(prior_weight(scale), CONTACT_COMPARISONS))
