"""Normalise stage: raw staged records from the parsers -> clean staged records + rejections.

Each entry point takes a raw frame (`records.RAW_*`) and the run's Settings and returns
(`records.CLEAN_*` frame, `records.REJECTED` frame); every input row ends in exactly one of the
two. Everything is vectorised polars; per-value library calls (email-validator, phonenumbers,
nameparser, cleanco, tldextract) run once per distinct value.
"""

from rex_pipeline.normalise.activities import normalise_activities
from rex_pipeline.normalise.companies import normalise_companies
from rex_pipeline.normalise.contacts import normalise_contacts
from rex_pipeline.normalise.deals import normalise_deals
from rex_pipeline.normalise.tasks import normalise_tasks

__all__ = [
    "normalise_activities",
    "normalise_companies",
    "normalise_contacts",
    "normalise_deals",
    "normalise_tasks",
]
