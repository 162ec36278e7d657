"""Instantly ingestion: lead exports (UI CSV, API v2 JSON), `/emails` exports and webhook-event
archives from `inbox/instantly/` become raw staged contacts and activities.

load (file -> flat frames by kind) -> leads / emails / events (flat frame -> raw records).
"""

from rex_pipeline.sources.instantly.parser import parse_instantly_file

__all__ = ["parse_instantly_file"]
