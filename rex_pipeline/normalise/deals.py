"""The deal stage: `records.RAW_DEAL` -> `records.CLEAN_DEAL` + `records.REJECTED`.

A deal needs a name. The amount becomes integer minor units plus an ISO currency (an amount
that cannot be read is kept in metadata as raw_value); status is open/won/lost from the status
column, else from a stage that says it ("closedwon", "Closed Lost"), else open.
"""

from __future__ import annotations

import polars as pl

from rex_pipeline import records
from rex_pipeline.config import Settings
from rex_pipeline.normalise.metadata import add_to_metadata
from rex_pipeline.normalise.money import parse_money
from rex_pipeline.normalise.record_links import with_links
from rex_pipeline.normalise.rejects import rejected_rows
from rex_pipeline.normalise.text import blank_to_null
from rex_pipeline.normalise.vocab import deal_status_from_stage, map_vocab


def normalise_deals(raw: pl.DataFrame, settings: Settings) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(CLEAN_DEAL frame, REJECTED frame); every input row ends in exactly one of them."""
    given = records.conform(raw, records.RAW_DEAL)
    strings = [n for n, t in records.RAW_DEAL.items() if t == pl.String() and n != "raw"]
    frame = given.with_columns(*(blank_to_null(pl.col(n)).alias(n) for n in strings))
    frame = with_links(
        frame.with_columns(pl.col("org_id").fill_null(settings.org_id)), company=True
    )
    money = parse_money(frame["value"], frame["currency"])
    status = map_vocab(frame["status"], "deal_status")
    from_stage = deal_status_from_stage(pl.col("stage"))
    frame = frame.with_columns(
        value_given=pl.col("value"),
        value=money["value"],
        currency=money["currency"],
        status=pl.coalesce(status, from_stage, pl.lit("open")),
        metadata=add_to_metadata(
            pl.col("metadata"),
            {
                "raw_value": pl.when(money["value"].is_null()).then(pl.col("value")),
                "raw_status": pl.when(status.is_null()).then(pl.col("status")),
                "invalid_contact_email": pl.when(pl.col("contact_email_error").is_not_null()).then(
                    pl.col("contact_email_given")
                ),
                "raw_company_domain": pl.when("website_unused").then("company_domain_given"),
            },
        ),
        reason=pl.when(pl.col("name").is_null()).then(pl.lit("deal has no name")),
    )
    rejected = rejected_rows(
        given.with_columns(frame["org_id"], frame["reason"]), "reason", records.RAW_DEAL
    )
    clean = frame.filter(pl.col("reason").is_null())
    return records.conform(clean, records.CLEAN_DEAL), rejected
