"""The published warehouse: every canonical, lineage and review table of the contract, with a
comment for each table and column (published as DuckDB `COMMENT ON`, so analysts see the
documentation in their SQL tools) and the enumerations the checks validate against.

This module is the single source of the table shapes: the publish step creates tables from it,
the query module whitelists fields from it, and the checks read the enums from it.
"""

from __future__ import annotations

from dataclasses import dataclass

STAGES = ("lead", "prospect", "customer", "churned")  # in lifecycle order
CONTACT_SOURCE_VALUES = (
    "organic",
    "referral",
    "paid",
    "social",
    "email",
    "event",
    "outbound",
    "other",
)
ACTIVITY_TYPES = ("call", "email", "meeting", "note", "task", "custom", "other")
ACTIVITY_STATUSES = ("draft", "completed", "scheduled", "rejected")
DIRECTIONS = ("inbound", "outbound", "na")
DEAL_STATUSES = ("open", "won", "lost")
TASK_PRIORITIES = ("low", "medium", "high")
TASK_STATUSES = ("pending", "completed")
SOURCE_SYSTEMS = ("csv", "gmail", "instantly")

ID_PREFIXES = {
    "contact": "cont",
    "company": "comp",
    "activity": "act",
    "deal": "deal",
    "task": "task",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    comment: str


@dataclass(frozen=True)
class Table:
    name: str
    comment: str
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def create_sql(self, catalog: str | None = None, if_not_exists: bool = False) -> str:
        """CREATE statement, optionally in another attached database (`catalog`)."""
        cols = ",\n  ".join(f'"{c.name}" {c.type}' for c in self.columns)
        target = f'{catalog}.main."{self.name}"' if catalog else f'"{self.name}"'
        verb = "CREATE TABLE IF NOT EXISTS" if if_not_exists else "CREATE OR REPLACE TABLE"
        return f"{verb} {target} (\n  {cols}\n)"

    def comment_sql(self) -> list[str]:
        def q(text: str) -> str:
            return "'" + text.replace("'", "''") + "'"

        stmts = [f'COMMENT ON TABLE "{self.name}" IS {q(self.comment)}']
        stmts += [
            f'COMMENT ON COLUMN "{self.name}"."{c.name}" IS {q(c.comment)}' for c in self.columns
        ]
        return stmts


def _c(name: str, type_: str, comment: str) -> Column:
    return Column(name, type_, comment)


_ORG = _c("org_id", "VARCHAR NOT NULL", "Organisation the row belongs to; nothing crosses orgs.")
_CREATED = _c("created_at", "TIMESTAMPTZ", "When the record was first created (UTC).")
_UPDATED = _c("updated_at", "TIMESTAMPTZ", "When the record last changed (UTC).")
_META = _c("metadata", "JSON", "Custom and source-specific fields, never lost.")

CONTACTS = Table(
    "contacts",
    "Canonical, deduplicated people (Rex contact model). One row per person per org.",
    (
        _c("id", "VARCHAR NOT NULL", "TypeID cont_…; never changes once given."),
        _ORG,
        _c("email", "VARCHAR", "Primary address, normalised; unique per org when present."),
        _c("first_name", "VARCHAR", "Given name."),
        _c("last_name", "VARCHAR", "Family name."),
        _c("phone", "VARCHAR", "Phone number in E.164 (only when valid)."),
        _c("title", "VARCHAR", "Job title."),
        _c("linkedin_url", "VARCHAR", "Canonical LinkedIn profile URL."),
        _c("stage", "VARCHAR", "Lifecycle stage: lead|prospect|customer|churned."),
        _c("source", "VARCHAR", "organic|referral|paid|social|email|event|outbound|other."),
        _c("source_detail", "VARCHAR", "Free-text detail of the source (campaign, file)."),
        _c("company_id", "VARCHAR", "comp_… of the contact's company."),
        _c("owner_id", "VARCHAR", "Owner (member) as given by the source."),
        _c("icp_score", "INTEGER", "Ideal-customer-profile fit 0–100."),
        _c("icp_score_reason", "VARCHAR", "Why the score is what it is, strongest first."),
        _c("icp_scored_at", "TIMESTAMPTZ", "When the score last changed."),
        _c("tags", "VARCHAR[]", "Tags, unioned across merged records."),
        _META,
        _CREATED,
        _UPDATED,
    ),
)

CONTACT_EMAILS = Table(
    "contact_emails",
    "Every address known for a contact (merged contacts keep all of them).",
    (
        _c("contact_id", "VARCHAR NOT NULL", "cont_… the address belongs to."),
        _ORG,
        _c("email", "VARCHAR NOT NULL", "The address as given (domain lower-cased)."),
        _c("is_primary", "BOOLEAN NOT NULL", "True for the contact's primary address."),
    ),
)

COMPANIES = Table(
    "companies",
    "Canonical, deduplicated companies. One row per company per org.",
    (
        _c("id", "VARCHAR NOT NULL", "TypeID comp_…; never changes once given."),
        _ORG,
        _c("name", "VARCHAR", "Display name."),
        _c("domain", "VARCHAR", "Registrable domain, lower case; unique per org when present."),
        _c("industry", "VARCHAR", "Industry as given."),
        _c("size", "VARCHAR", "Company size (band or count) as given."),
        _c("description", "VARCHAR", "Short description."),
        _META,
        _CREATED,
        _UPDATED,
    ),
)

ACTIVITIES = Table(
    "activities",
    "Emails, calls, meetings, notes… linked to contacts; (source, external_id) unique per org.",
    (
        _c("id", "VARCHAR NOT NULL", "TypeID act_…"),
        _ORG,
        _c("type", "VARCHAR NOT NULL", "call|email|meeting|note|task|custom|other."),
        _c("subtype", "VARCHAR", "reply, bounce, auto_reply, open, click …"),
        _c("status", "VARCHAR", "draft|completed|scheduled|rejected."),
        _c("subject", "VARCHAR", "Subject line."),
        _c("body", "VARCHAR", "Body as plain text."),
        _c("contact_id", "VARCHAR", "cont_… of the counterparty."),
        _c("company_id", "VARCHAR", "comp_… of the contact's company."),
        _c("deal_id", "VARCHAR", "deal_… the activity belongs to."),
        _c("owner_id", "VARCHAR", "Owner (member) as given."),
        _c("occurred_at", "TIMESTAMPTZ", "When it happened (UTC)."),
        _c("duration", "INTEGER", "Duration in seconds."),
        _c("direction", "VARCHAR", "inbound|outbound|na."),
        _c("source", "VARCHAR", "Where it came from: gmail, instantly, csv …"),
        _c("external_id", "VARCHAR", "Id in the source (Gmail: Message-ID without <>)."),
        _c("generated_by", "VARCHAR", "Who or what generated it."),
        _c("confidence_score", "DOUBLE", "Confidence of generated activities."),
        _c("model", "VARCHAR", "Model that generated it, if any."),
        _META,
        _CREATED,
        _UPDATED,
    ),
)

DEALS = Table(
    "deals",
    "Deals linked to contacts and companies.",
    (
        _c("id", "VARCHAR NOT NULL", "TypeID deal_…"),
        _ORG,
        _c("name", "VARCHAR", "Deal name."),
        _c("contact_id", "VARCHAR", "cont_… of the main contact."),
        _c("company_id", "VARCHAR", "comp_… of the company."),
        _c("pipeline_id", "VARCHAR", "Pipeline as given."),
        _c("stage_id", "VARCHAR", "Deal stage as given."),
        _c("value", "BIGINT", "Value in minor units (cents)."),
        _c("currency", "VARCHAR", "ISO 4217 currency code."),
        _c("status", "VARCHAR", "open|won|lost."),
        _CREATED,
        _UPDATED,
    ),
)

TASKS = Table(
    "tasks",
    "Tasks linked to contacts.",
    (
        _c("id", "VARCHAR NOT NULL", "TypeID task_…"),
        _ORG,
        _c("title", "VARCHAR", "What to do."),
        _c("contact_id", "VARCHAR", "cont_… the task is about."),
        _c("priority", "VARCHAR", "low|medium|high."),
        _c("status", "VARCHAR", "pending|completed."),
        _c("due_at", "TIMESTAMPTZ", "Due time (UTC)."),
        _CREATED,
        _UPDATED,
    ),
)


def _sources_table(name: str, entity: str, prefix: str, email_comment: str) -> Table:
    return Table(
        name,
        f"Lineage: one row per input record that contributed to a {entity}.",
        (
            _ORG,
            _c(f"{entity}_id", "VARCHAR NOT NULL", f"{prefix}_… the record resolved to."),
            _c("source_system", "VARCHAR NOT NULL", "csv|gmail|instantly."),
            _c("source_file", "VARCHAR NOT NULL", "Base name of the input file."),
            _c("source_row", "BIGINT", "1-based data row for tabular files; NULL otherwise."),
            _c("source_key", "VARCHAR", "The record's natural key in its source."),
            _c("email", "VARCHAR", email_comment),
            _c("match_rule", "VARCHAR", "Rule that attached the record (new, email, domain …)."),
            _c("match_score", "DOUBLE", "Score of that rule (1.0 for exact keys)."),
        ),
    )


CONTACT_SOURCES = _sources_table(
    "contact_sources", "contact", "cont", "Email as given in the record."
)
COMPANY_SOURCES = _sources_table(
    "company_sources", "company", "comp", "Domain or website as given in the record."
)


def _merges_table(name: str, entity: str) -> Table:
    return Table(
        name,
        f"Every {entity} merge: the winner keeps its id, the loser's id points here.",
        (
            _ORG,
            _c("winner_id", "VARCHAR NOT NULL", "Id that survived."),
            _c("loser_id", "VARCHAR NOT NULL", "Id merged away; look it up to find the winner."),
            _c("rule", "VARCHAR NOT NULL", "Rule that merged them (email, domain, fuzzy …)."),
            _c("score", "DOUBLE", "Match score (1.0 for exact keys)."),
            _c("merged_at", "TIMESTAMPTZ", "When the merge happened (UTC)."),
        ),
    )


CONTACT_MERGES = _merges_table("contact_merges", "contact")
COMPANY_MERGES = _merges_table("company_merges", "company")

POSSIBLE_DUPLICATES = Table(
    "possible_duplicates",
    "Pairs scored between the review and auto-merge thresholds; never merged automatically.",
    (
        _ORG,
        _c("entity", "VARCHAR NOT NULL", "contact or company."),
        _c("id_a", "VARCHAR NOT NULL", "First record's id."),
        _c("id_b", "VARCHAR NOT NULL", "Second record's id."),
        _c("score", "DOUBLE NOT NULL", "Match score 0–1."),
        _c("reasons", "VARCHAR", "Field evidence, strongest first."),
        _c("evidence", "JSON", "Per-field comparison scores."),
        _c("detected_at", "TIMESTAMPTZ", "When the pair was first scored (UTC)."),
    ),
)

REJECTED_RECORDS = Table(
    "rejected_records",
    "Every input record (or unreadable file) that could not be used, with the reason.",
    (
        _ORG,
        _c("source_system", "VARCHAR NOT NULL", "csv|gmail|instantly."),
        _c("source_file", "VARCHAR NOT NULL", "Base name of the input file."),
        _c("source_row", "BIGINT", "1-based data row, NULL for whole files and non-tabular."),
        _c("raw", "JSON", "The original fields."),
        _c("reason", "VARCHAR NOT NULL", "Why it was rejected."),
    ),
)

SAVED_VIEWS = Table(
    "saved_views",
    "Named smart-list filters (from the views: section of rex.yaml), runnable by the query module.",
    (
        _ORG,
        _c("name", "VARCHAR NOT NULL", "View name, unique per org."),
        _c("description", "VARCHAR", "What the view is for."),
        _c("query", "JSON NOT NULL", 'The smart-list request: {"query": {"groups": …}, "q": …}.'),
    ),
)

STAGE_CHANGES = Table(
    "stage_changes",
    "History of contact lifecycle-stage changes, for timelines.",
    (
        _ORG,
        _c("contact_id", "VARCHAR NOT NULL", "cont_… whose stage changed."),
        _c("from_stage", "VARCHAR", "Stage before (NULL when first set)."),
        _c("to_stage", "VARCHAR NOT NULL", "Stage after."),
        _c("changed_at", "TIMESTAMPTZ NOT NULL", "When the pipeline saw the change (UTC)."),
    ),
)

CANONICAL_TABLES: tuple[Table, ...] = (
    CONTACTS,
    CONTACT_EMAILS,
    COMPANIES,
    ACTIVITIES,
    DEALS,
    TASKS,
    CONTACT_SOURCES,
    COMPANY_SOURCES,
    CONTACT_MERGES,
    COMPANY_MERGES,
    POSSIBLE_DUPLICATES,
    REJECTED_RECORDS,
    SAVED_VIEWS,
    STAGE_CHANGES,
)
TABLES_BY_NAME = {t.name: t for t in CANONICAL_TABLES}

# --- derived tables: published for speed, kept up to date with the canonical tables by every
# publish; not part of the contract, and the query module works without them (older files).

CONTACT_SEARCH = Table(
    "contact_search",
    "Derived, not part of the contract: each contact's searchable text, lower-cased, with the"
    " columns contact lists sort by, per org newest first. Lets a search find the contacts of a"
    " page in one narrow table instead of case-folding contacts.",
    (
        _ORG,
        _c(
            "position",
            "BIGINT NOT NULL",
            "Rises in the table's order (org, newest first), with gaps for later rows.",
        ),
        _c("contact_id", "VARCHAR NOT NULL", "cont_… the row describes."),
        _c("contact_row", "BIGINT NOT NULL", "The contact's rowid in contacts (in this file)."),
        _c("owner_id", "VARCHAR", "The contact's owner (for member-scoped searches)."),
        _CREATED,
        _UPDATED,
        _c("first_name", "VARCHAR", "As in contacts (a sort key)."),
        _c("last_name", "VARCHAR", "As in contacts (a sort key)."),
        _c("icp_score", "INTEGER", "As in contacts (a sort key)."),
        _c("text", "VARCHAR NOT NULL", "lower(first_name last_name email), space-separated."),
        _c(
            "more_values",
            "VARCHAR NOT NULL",
            "lower(other emails, company name, custom-field values, never their keys),"
            " space-separated: what a smart list's free text also looks at. (Named `more`"
            " while it held the keys too: a file with that column builds the table again.)",
        ),
    ),
)

CONTACT_SEARCH_ORGS = Table(
    "contact_search_orgs",
    "Derived, not part of the contract: where each org's rows are in each position column of"
    " contact_search and the contacts_by_… tables (positions rise in the column's order, with"
    " gaps, and orgs never overlap).",
    (
        _ORG,
        _c("position_column", "VARCHAR NOT NULL", "<table>.<column>: contact_search.position…"),
        _c("first_position", "BIGINT NOT NULL", "The org's lowest position in that column."),
        _c("last_position", "BIGINT NOT NULL", "The org's highest position in that column."),
    ),
)


def _contacts_by(column: str, type_: str) -> Table:
    return Table(
        f"contacts_by_{column}",
        f"Derived, not part of the contract: each org's contacts in {column} order, so a page"
        f" sorted by {column} reads a few rows of it instead of sorting every contact.",
        (
            _ORG,
            _c(
                "pos_asc",
                "BIGINT NOT NULL",
                f"Rises by org, {column} ASC NULLS LAST, id ASC (with gaps).",
            ),
            _c(
                "pos_desc",
                "BIGINT NOT NULL",
                f"Rises by org, {column} DESC NULLS LAST, id DESC (with gaps).",
            ),
            _c(column, type_, "As in contacts."),
            _c("contact_id", "VARCHAR NOT NULL", "cont_… the row describes."),
            _c("contact_row", "BIGINT NOT NULL", "The contact's rowid in contacts (this file)."),
            _c("owner_id", "VARCHAR", "The contact's owner (for member-scoped lists)."),
        ),
    )


# Contact sorts with many ties (scores, names): a page must otherwise order thousands of equal
# keys by id across the whole table.
CONTACTS_BY = {
    column: _contacts_by(column, type_)
    for column, type_ in (("icp_score", "INTEGER"), ("last_name", "VARCHAR"),
                          ("first_name", "VARCHAR"))
}  # fmt: skip

OWNER_RECORDS = Table(
    "owner_records",
    "Derived, not part of the contract: the activities, deals and tasks of each owner's"
    " contacts, by kind and owner, in each kind's default order, so a member's list reads its"
    " own slice.",
    (
        _ORG,
        _c("kind", "VARCHAR NOT NULL", "activities|deals|tasks."),
        _c("owner_key", "UBIGINT NOT NULL", "md5_number_upper(org_id, owner_id): the sort key."),
        _c("owner_id", "VARCHAR NOT NULL", "Owner of the record's contact."),
        _c("sort_key", "TIMESTAMPTZ", "The kind's default sort column (occurred_at, …)."),
        _c("record_id", "VARCHAR NOT NULL", "act_…, deal_… or task_… of the record."),
        _c("record_row", "BIGINT NOT NULL", "The record's rowid in its table (in this file)."),
    ),
)

DERIVED_INPUTS = Table(
    "derived_inputs",
    "Derived, not part of the contract: the row count of each canonical table the derived"
    " tables were built from, so a reader can tell they still describe this file.",
    (
        _c("table_name", "VARCHAR NOT NULL", "A canonical table."),
        _c("row_count", "BIGINT NOT NULL", "Its rows when the derived tables were built."),
    ),
)

DERIVED_TABLES: tuple[Table, ...] = (
    CONTACT_SEARCH,
    CONTACT_SEARCH_ORGS,
    *CONTACTS_BY.values(),
    OWNER_RECORDS,
    DERIVED_INPUTS,
)
