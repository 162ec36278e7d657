"""Small canonical-shaped frames for the ICP tests (columns as in rex_pipeline/schema.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from rex_pipeline.score.model import IcpModel, load_icp_model

UTC_TS = pl.Datetime("us", "UTC")
NOW = datetime(2025, 6, 2, 6, 0, tzinfo=UTC)

CONTACT_SCHEMA = {
    "id": pl.String,
    "first_name": pl.String,
    "last_name": pl.String,
    "email": pl.String,
    "title": pl.String,
    "stage": pl.String,
    "company_id": pl.String,
    "metadata": pl.String,
}
COMPANY_SCHEMA = {
    "id": pl.String,
    "name": pl.String,
    "domain": pl.String,
    "industry": pl.String,
    "size": pl.String,
    "metadata": pl.String,
}
ACTIVITY_SCHEMA = {
    "contact_id": pl.String,
    "type": pl.String,
    "subtype": pl.String,
    "direction": pl.String,
    "status": pl.String,
    "occurred_at": UTC_TS,
}

MODEL: IcpModel = load_icp_model(
    {
        "version": 3,
        "persona": {
            "seniority": {
                "points": {"founder": 25, "c_level": 25, "vp": 25, "head": 20, "manager": 10}
            },
            "department": {"points": {"engineering": 15, "product": 10}},
        },
        "firmographic": {
            "industry": {"points": {"Software": 20, "IT Services": 10}, "other": -5},
            "company_size": {"points": {"51-200": 15, "201-500": 15, "1-10": -5}},
            "country": {"points": {"US": 5, "GB": 5}},
        },
        "engagement": {
            "inbound_reply": {"points": 10, "max_times": 2, "within_days": 30},
            "meeting": {"points": 15, "within_days": 90},
            "recent_activity": {"points": 5, "within_days": 14},
            "bounce": {"points": -15},
            "unsubscribe": {"points": -30},
        },
        "stage": {"churned": {"points": -10, "cap": 40}},
    }
)


def meta(**fields: Any) -> str:
    return json.dumps(fields)


def contacts(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=CONTACT_SCHEMA)


def companies(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=COMPANY_SCHEMA)


def activities(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=ACTIVITY_SCHEMA)


def days_ago(days: float, now: datetime = NOW) -> datetime:
    return now - timedelta(days=days)


def reply(contact_id: str, at: datetime, subtype: str | None = "reply") -> dict[str, Any]:
    return {
        "contact_id": contact_id,
        "type": "email",
        "subtype": subtype,
        "direction": "inbound",
        "status": "completed",
        "occurred_at": at,
    }


COMPANIES = companies(
    [
        {
            "id": "comp_acme",
            "name": "Acme Cloud",
            "domain": "acmecloud.io",
            "industry": "Software Development",
            "size": "51-200 employees",
            "metadata": meta(**{"Company Country": "United States"}),
        },
        {
            "id": "comp_shop",
            "name": "Corner Shop Ltd",
            "domain": "cornershop.co.uk",
            "industry": "retail",
            "size": "2-10",
            "metadata": meta(Country="United Kingdom"),
        },
        {
            "id": "comp_blank",
            "name": "Stealth Co",
            "domain": "stealth.dev",
            "industry": None,
            "size": None,
            "metadata": None,
        },
    ]
)
