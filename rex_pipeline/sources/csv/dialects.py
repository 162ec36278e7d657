"""Recognise which export a CSV file is — by its header row, never by its file name — and
which kind of record it holds.

A *vendor* (HubSpot, Salesforce, Apollo, LinkedIn, Google, Outlook) decides the natural key,
the separators of multi-valued cells and the few headers that mean something unusual there
(Outlook's "Title" is a salutation, LinkedIn's "URL" a profile). The *entity kind* (contacts,
companies, deals, tasks, activities) comes from the headers too; everything else is the shared
alias table.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from rex_pipeline.sources.csv.aliases import (
    ALIASES,
    CONTACT_REFERENCES,
    KIND_MARKERS,
    PERSON_FIELDS,
    PERSON_NAME_KEYS,
    EntityKind,
    header_key,
)

GOOGLE_SEPARATOR = " ::: "
_TAGS_SPLIT = r"\s*[,;|]\s*"


@dataclass(frozen=True)
class Vendor:
    """What is particular to one exporting product."""

    name: str  # dialect name reported in stats
    label: str  # default source_detail of its records
    matches: Callable[[frozenset[str], Sequence[str], bool], bool]
    kind: EntityKind | None = None  # forced kind (None: decide by headers)
    key_columns: dict[str, tuple[str, ...]] = field(default_factory=dict)  # kind|"*" -> keys
    key_prefix: str | None = None
    # kind|"*" -> field -> header keys tried before the shared aliases
    extra_aliases: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    excluded: frozenset[str] = frozenset()  # header keys never mapped to a field
    value_separator: str | None = None  # cells holding several values ("a ::: b")
    tag_split: str = _TAGS_SPLIT  # regex between tags in one cell
    variant: Callable[[frozenset[str]], str] | None = None  # names a layout of the export


@dataclass(frozen=True)
class Dialect:
    """The recognised export: vendor facts plus the field -> header keys map for its kind."""

    name: str
    label: str
    kind: EntityKind
    fields: dict[str, tuple[str, ...]]  # field -> header keys in priority order
    key_columns: tuple[str, ...]
    key_prefix: str | None
    value_separator: str | None
    tag_split: str


def _keys(*headers: str) -> frozenset[str]:
    return frozenset(header_key(h) for h in headers)


_SALESFORCE_API_NAMES = frozenset(
    {
        "AccountId",
        "OwnerId",
        "CreatedDate",
        "CreatedById",
        "LastModifiedDate",
        "IsDeleted",
        "FirstName",
        "LastName",
        "LeadSource",
        "MobilePhone",
        "MailingCity",
        "StageName",
        "CloseDate",
        "WhoId",
        "WhatId",
        "ActivityDate",
        "SystemModstamp",
    }
)
_SALESFORCE_REPORT_HINTS = _keys(
    "Contact Owner",
    "Lead Source",
    "Opportunity Owner",
    "Opportunity Name",
    "Contact ID",
    "Account Owner",
)


def _salesforce_api(keys: frozenset[str], headers: Sequence[str], _footer: bool) -> bool:
    exact = set(headers)
    return "Id" in exact and len(exact & _SALESFORCE_API_NAMES) >= 2


def _salesforce_report(keys: frozenset[str], _headers: Sequence[str], footer: bool) -> bool:
    return footer or ("accountname" in keys and bool(keys & _SALESFORCE_REPORT_HINTS))


def _has_any(*headers: str) -> Callable[[frozenset[str], Sequence[str], bool], bool]:
    wanted = _keys(*headers)
    return lambda keys, _h, _f: bool(keys & wanted)


_HUBSPOT_HINTS = _keys(
    "Contact owner",
    "Create Date",
    "Lifecycle Stage",
    "Lead Status",
    "Associated Company",
    "Associated Contact",
    "Company owner",
    "Company Domain Name",
    "Deal owner",
    "Deal Stage",
    "Activity assigned to",
    "Last Activity Date",
)


def _hubspot(keys: frozenset[str], _headers: Sequence[str], _footer: bool) -> bool:
    """ "Record ID" plus one of HubSpot's own property labels (other CRMs have record ids too)."""
    return "recordid" in keys and bool(keys & _HUBSPOT_HINTS)


def _outlook_desktop(keys: frozenset[str], _headers: Sequence[str], _footer: bool) -> bool:
    english = "emailaddress" in keys and bool(
        keys & _keys("E-mail Display Name", "E-mail Type", "Business Street")
    )
    german = "emailadresse" in keys and bool(
        keys & _keys("E-Mail: Angezeigter Name", "E-Mail-Typ", "Straße geschäftlich")
    )
    return english or german


def _apollo(keys: frozenset[str], _headers: Sequence[str], _footer: bool) -> bool:
    ids = _keys(
        "Apollo Contact Id",
        "Apollo Account Id",
        "Apollo Record Id",
        "Primary Email Source",
        "Company Name for Emails",
    )
    return bool(keys & ids) or {"emailstatus", "personlinkedinurl"} <= keys


VENDORS: tuple[Vendor, ...] = (
    Vendor(
        name="linkedin connections",
        label="linkedin connections export",
        matches=lambda keys, _h, _f: {"connectedon", "position"} <= keys,
        kind="contacts",
        key_columns={"*": ("url",)},
        key_prefix="linkedin",
        extra_aliases={"*": {"linkedin_url": ("url",)}},
        variant=lambda keys: "2024" if "url" in keys else "2018",
    ),
    Vendor(
        name="google contacts",
        label="google contacts export",
        matches=lambda keys, _h, _f: (
            "email1value" in keys or {"givenname", "familyname", "groupmembership"} <= keys
        ),
        kind="contacts",
        value_separator=GOOGLE_SEPARATOR,
        tag_split=re.escape(GOOGLE_SEPARATOR),
        variant=lambda keys: "legacy" if "givenname" in keys else "2022+",
    ),
    Vendor(
        name="outlook.com export",
        label="outlook.com export",
        matches=_has_any("Given Yomi", "Surname Yomi", "Company Yomi"),
        kind="contacts",
        excluded=_keys("Title"),
        tag_split=r"\s*;\s*",
    ),
    Vendor(
        name="outlook desktop export",
        label="outlook export",
        matches=_outlook_desktop,
        kind="contacts",
        excluded=_keys("Title", "Account", "Priority", "Anrede"),  # Title is "Mr."/"Dr."
        tag_split=r"\s*;\s*",
    ),
    Vendor(
        name="hubspot export",
        label="hubspot export",
        matches=_hubspot,
        key_columns={"*": ("recordid",)},
        key_prefix="hubspot",
    ),
    Vendor(
        name="apollo export",
        label="apollo export",
        matches=_apollo,
        key_columns={
            "contacts": ("apollocontactid",),
            "companies": ("apolloaccountid", "apollorecordid"),
        },
        key_prefix="apollo",
        excluded=_keys("Account Owner"),
    ),
    Vendor(
        name="salesforce data export",
        label="salesforce export",
        matches=_salesforce_api,
        key_columns={"*": ("id",)},
        key_prefix="salesforce",
        extra_aliases={
            "*": {"owner": ("ownerid",)},
            "contacts": {"stage": ("status",)},  # Lead.Status
        },
        excluded=_keys("AccountId", "MasterRecordId", "RecordTypeId", "ReportsToId"),
    ),
    Vendor(
        name="salesforce report",
        label="salesforce report",
        matches=_salesforce_report,
        key_columns={
            "contacts": ("contactid", "leadid"),
            "companies": ("accountid",),
            "deals": ("opportunityid",),
            "tasks": ("activityid", "taskid"),
            "activities": ("activityid", "taskid"),
        },
        key_prefix="salesforce",
    ),
)

GENERIC = Vendor(name="generic csv", label="csv import", matches=lambda _k, _h, _f: True)


def _is_person(keys: frozenset[str]) -> bool:
    aliases = ALIASES["contacts"]
    person_keys = {k for f in PERSON_FIELDS for k in aliases[f]} | PERSON_NAME_KEYS
    return bool(keys & person_keys)


def _is_company(keys: frozenset[str]) -> bool:
    aliases = ALIASES["companies"]
    return bool(keys & (set(aliases["name"]) | set(aliases["domain"])))


def detect_kind(keys: frozenset[str]) -> EntityKind | None:
    """The kind of record a header row describes, or None when it is not a header we know.

    Deal, task and activity files name their linked person ("Contact Email", "Associated
    Contact"); a file whose markers are weak but that lists people is a contact list."""
    scores = {kind: len(keys & markers) for kind, markers in KIND_MARKERS.items()}
    linked = max(scores, key=lambda k: scores[k])  # ties: deals, tasks, activities
    refers = bool(keys & CONTACT_REFERENCES)
    if scores[linked] >= 2 or (scores[linked] and refers):
        return linked
    if _is_person(keys):
        return "contacts"
    if _is_company(keys):
        return "companies"
    if scores[linked] or refers:
        return linked if scores[linked] else "activities"
    return None


def recognise(headers: Sequence[str], salesforce_footer: bool = False) -> Dialect | None:
    """The dialect of a header row, or None when the row is not a header we can use."""
    keys = frozenset(header_key(h) for h in headers) - {""}
    vendor = next((v for v in VENDORS if v.matches(keys, headers, salesforce_footer)), GENERIC)
    kind = vendor.kind or detect_kind(keys)
    if kind is None:
        return None
    name = vendor.name
    if vendor.variant is not None:
        name = f"{name} ({vendor.variant(keys)})"
    extras = {**vendor.extra_aliases.get("*", {}), **vendor.extra_aliases.get(kind, {})}
    fields: dict[str, tuple[str, ...]] = {}
    for field_name, aliases in ALIASES[kind].items():
        extra = extras.get(field_name, ())
        ordered = tuple(dict.fromkeys((*extra, *aliases)))
        fields[field_name] = tuple(k for k in ordered if k not in vendor.excluded)
    key_columns = vendor.key_columns.get(kind, vendor.key_columns.get("*", ()))
    return Dialect(
        name=name,
        label=vendor.label,
        kind=kind,
        fields=fields,
        key_columns=key_columns,
        key_prefix=vendor.key_prefix,
        value_separator=vendor.value_separator,
        tag_split=vendor.tag_split,
    )
