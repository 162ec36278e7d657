"""How answers are shown: the API's JSON, CSV for lists, and plain-text tables for people."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from rex_pipeline.query.pages import Page
from rex_pipeline.query.resources import RESOURCES

MAX_CELL = 40
WIDE_CELLS = {
    "summary": 72,
    "subject": 60,
    "description": 60,
    "query": 80,
    "meaning": 90,
    "reasons": 70,
    "status": 72,
}

# The columns a person wants to see first; --fields shows others.
TABLE_COLUMNS: dict[str, list[str]] = {
    "contacts": ["id", "first_name", "last_name", "email", "stage", "icp_score", "created_at"],
    "companies": ["id", "name", "domain", "industry", "size", "created_at"],
    "activities": ["id", "occurred_at", "type", "direction", "subject", "contact_id"],
    "deals": ["id", "name", "status", "value", "currency", "contact_id", "created_at"],
    "tasks": ["id", "title", "status", "priority", "due_at", "contact_id"],
    "timeline": ["at", "event", "summary", "record_id"],
}

_PLURAL = {r.type: r.name for r in RESOURCES.values()}  # "contact" -> "contacts"


def to_jsonable(value: Any) -> Any:
    """Datetimes as ISO 8601 in UTC with a Z, as the Rex API writes them."""
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    return value


def render_json(answer: Any) -> str:
    return json.dumps(to_jsonable(answer), indent=2, ensure_ascii=False)


def cell(value: Any, width: int | None = MAX_CELL) -> str:
    """One value as short, single-line text."""
    if value is None:
        text = ""
    elif isinstance(value, datetime):
        text = value.strftime("%Y-%m-%d %H:%M")
    elif isinstance(value, list):
        text = ", ".join(cell(v, None) for v in value)
    elif isinstance(value, dict):
        text = json.dumps(to_jsonable(value), ensure_ascii=False, separators=(",", ":"))
    else:
        text = str(value)
    text = " ".join(text.split())
    if width is not None and len(text) > width:
        text = text[: width - 1] + "…"
    return text


def render_table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    if not rows:
        return "(no rows)"
    cells = [[cell(row.get(c), WIDE_CELLS.get(c, MAX_CELL)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(line.rstrip() for line in lines)


def render_csv(rows: list[dict[str, Any]], columns: list[str]) -> str:
    """Every value in full: lists joined by ';', objects as JSON, times in ISO 8601."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        values = []
        for c in columns:
            value = to_jsonable(row.get(c))
            if isinstance(value, list):
                value = ";".join(str(v) for v in value)
            elif isinstance(value, dict):
                value = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
            values.append("" if value is None else value)
        writer.writerow(values)
    return out.getvalue().rstrip("\n")


def page_footer(page: Page) -> str:
    shown = f"{len(page['data'])} row{'s' if len(page['data']) != 1 else ''}"
    if page["has_more"]:
        return f"{shown}; next page: --cursor {page['next_cursor']}"
    return f"{shown}; end of list"


def render_record(answer: dict[str, Any]) -> str:
    """A record as `field  value` lines, then its relationships and included records."""
    data = dict(answer["data"])
    relationships = data.pop("relationships", {})
    lines = _fields_block(data)
    if relationships:
        lines.append("")
        lines.append("relationships:")
        for name, rel in relationships.items():
            ref = rel["data"]
            lines.append(f"  {name:<12} {ref['type']} {ref['id']}" if ref else f"  {name:<12} —")
    for record in answer.get("included", []):
        lines.append("")
        lines.append(f"included {record['type']}:")
        lines += ["  " + line for line in _fields_block(record, skip={"type"})]
    if "meta" in answer:
        meta = answer["meta"]
        lines.insert(
            0,
            f"note: {meta['requested_id']} was merged into {meta['merged_into']}"
            f" (rule {meta['merge_rule']}); showing the merged record\n",
        )
    return "\n".join(lines)


def _fields_block(record: dict[str, Any], skip: set[str] | None = None) -> list[str]:
    shown = {k: v for k, v in record.items() if k not in (skip or set())}
    width = max((len(k) for k in shown), default=0)
    return [f"{k.ljust(width)}  {cell(v, 100)}" for k, v in shown.items()]


def render_summary(summary: dict[str, Any]) -> str:
    who = f" (owner {summary['owner_id']})" if summary.get("owner_id") else ""
    lines = [f"Warehouse summary for org {summary['org_id']}{who}", "", "Rows per table:"]
    width = max(len(name) for name in summary["tables"])
    for name, count in summary["tables"].items():
        shown = "missing" if count is None else f"{count:,}"
        lines.append(f"  {name.ljust(width)}  {shown:>12}")
    lines += ["", "Rejected records by reason:"]
    if summary["rejected_by_reason"]:
        width = max(len(r["reason"]) for r in summary["rejected_by_reason"])
        lines += [
            f"  {r['reason'].ljust(width)}  {r['count']:>10,}"
            for r in summary["rejected_by_reason"]
        ]
    else:
        lines.append("  (none)")
    lines += ["", f"Top {len(summary['top_contacts'])} contacts by ICP score:"]
    columns = ["icp_score", "id", "first_name", "last_name", "email", "stage", "icp_score_reason"]
    table = render_table(summary["top_contacts"], columns)
    lines += ["  " + line for line in table.splitlines()]
    return "\n".join(lines)


def render_views(views: list[dict[str, Any]]) -> str:
    return render_table(views, ["name", "description", "query"])


def render_explanation(answer: dict[str, Any]) -> str:
    """Two records' verdict, then a line per field of evidence and the blocks they share."""
    a, b = answer["ids"]
    plural = _PLURAL[answer["entity"]]
    lines = [f"{a}  vs  {b}"]
    for requested, record in zip(answer["requested"], answer["ids"], strict=True):
        if requested != record:
            lines.append(f"  ({requested} was merged into {record})")
    if answer["same"]:
        lines.append(f"decision  {answer['decision']}")
        for merge in answer["merges"]:
            lines.append(
                f"  {merge['requested_id']} merged into {merge['merged_into']} "
                f"by rule {merge['merge_rule']} at {cell(merge['merged_at'])}"
            )
        return "\n".join(lines)
    thresholds = answer["thresholds"]
    lines += [
        f"decision  {answer['decision']}  (score {answer['score']:.4f}; merge at "
        f"{thresholds['merge']}, review at {thresholds['review']})",
        f"conflict  {answer['conflict'] or '-'}",
        *([f"note      {answer['note']}"] if answer.get("note") else []),
        f"scored    as they are now: the {answer['entity']} index of the sync of "
        f"{answer['index']['synced_at']} ({answer['index']['nodes']:,} {plural})",
        _prior_line(answer["prior"], plural),
        "",
    ]
    rows = [
        {
            "field": name,
            "level": field["level"],
            "weight": f"{field['weight']:+.1f}",
            "similarity": "" if field["similarity"] is None else f"{field['similarity']:.2f}",
            "meaning": field["meaning"],
        }
        for name, field in answer["evidence"].items()
    ]
    lines.append(render_table(rows, ["field", "level", "weight", "similarity", "meaning"]))
    blocking = answer["blocking"]
    blocks = [
        f"{blk['rule']} ({blk['nodes']} {plural}, limit {blk['limit']})"
        for blk in blocking["shared_blocks"]
    ]
    verdict = "compared" if blocking["compared"] else "never compared"
    lines += ["", f"blocking  {verdict}: " + (", ".join(blocks) or "no block key in common")]
    return "\n".join(lines)


def _prior_line(prior: dict[str, float], plural: str) -> str:
    """The match weight a pair starts from: the bits a warehouse this size takes off (the
    field weights of identifiers, and of one name at one company, carry them back)."""
    line = f"prior     {prior['bits']:+.1f} bits before any field"
    if prior["population_bits"] > 0:
        line += (
            f" ({prior['population_bits']:.1f} of them for the number of {plural}: identifiers,"
            " and a shared company for one name, weigh as much more)"
        )
    return line
