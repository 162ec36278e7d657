"""Which Instantly keys and column headers mean which field, and what kind of record a set of
keys describes.

The same field is spelt `first_name` (API), `First Name` (UI CSV export) or `firstName` (custom
upload columns, webhook lead data); comparing keys by `key_of` (lower case, letters and digits
only) makes those one spelling, so each alias list stays short.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Literal

Kind = Literal["leads", "emails", "events"]

_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=8192)  # called for every key of every JSON record; the keys repeat
def key_of(name: str) -> str:
    """The comparable form of a key or header: 'First Name' == 'first_name' == 'firstName'."""
    return _NOT_ALNUM.sub("", name.lower())


@dataclass(frozen=True)
class FieldSet:
    """The fields of one kind of record.

    `builtin`: the keys Instantly itself uses for a field (consumed: they become the field).
    `fallback`: keys of custom variables / lead data that mean the same field; used only when
    the built-in one is empty, and kept as custom variables too.
    `nested`: objects whose members are fields (`body: {text, html}`)."""

    builtin: Mapping[str, tuple[str, ...]]
    fallback: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    nested: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @cached_property
    def names(self) -> tuple[str, ...]:
        """Every field name, built-in first, in a stable order."""
        nested = [f for members in self.nested.values() for f in members.values()]
        return tuple(dict.fromkeys([*self.builtin, *self.fallback, *nested]))

    @cached_property
    def fallback_lookup(self) -> dict[str, tuple[int, str]]:
        """Comparable key -> (rank, field) for the fallback keys; rank 0 is the best name."""
        return {
            key: (rank, name)
            for name, keys in self.fallback.items()
            for rank, key in enumerate(keys)
        }

    @cached_property
    def lookup(self) -> dict[str, str]:
        """Comparable key -> field, for the built-in keys."""
        return {key: name for name, keys in self.builtin.items() for key in keys}


# Keys whose object value holds a lead's custom variables (`payload` in API v2).
CUSTOM_CONTAINERS = frozenset({"payload", "customvariables", "leaddata", "variables"})

# Custom-variable names (as uploaded from Apollo, Clay, sheets ...) that mean a standard field.
_LEAD_DATA_FALLBACK: dict[str, tuple[str, ...]] = {
    "first_name": ("firstname", "first"),
    "last_name": ("lastname", "last", "surname"),
    "full_name": ("name", "fullname"),
    "title": ("jobtitle", "title", "position", "role", "headline"),
    "phone": ("phone", "phonenumber", "mobile", "mobilephone", "directphone", "workphone"),
    "linkedin_url": (
        "linkedin",
        "linkedinurl",
        "linkedinprofile",
        "linkedinprofileurl",
        "personlinkedinurl",
    ),
    "company_name": ("companyname", "company"),
    "website": ("website", "companywebsite", "websiteurl", "companyurl"),
    "company_domain": ("companydomain", "domain"),
}

LEAD_FIELDS = FieldSet(
    builtin={
        "id": ("id", "leadid"),
        "email": ("email", "emailaddress", "leademail"),
        "first_name": ("firstname",),
        "last_name": ("lastname",),
        "phone": ("phone",),
        "company_name": ("companyname",),
        "website": ("website",),
        "company_domain": ("companydomain",),
        "personalization": ("personalization",),
        "status": ("status", "leadstatus"),
        "interest_status": ("ltintereststatus", "intereststatus"),
        "verification_status": ("verificationstatus",),
        "open_count": ("emailopencount", "opencount", "opens"),
        "reply_count": ("emailreplycount", "replycount", "replies"),
        "click_count": ("emailclickcount", "clickcount", "clicks"),
        "campaign_id": ("campaign", "campaignid"),
        "campaign_name": ("campaignname",),
        "list_id": ("listid",),
        "last_contacted_at": ("timestamplastcontact", "lastcontactedat", "lastcontacted"),
        "created_at": ("timestampcreated", "createdat", "datecreated"),
        "updated_at": ("timestampupdated", "updatedat", "dateupdated"),
    },
    fallback=_LEAD_DATA_FALLBACK,
)

EMAIL_FIELDS = FieldSet(
    builtin={
        "id": ("id", "emailid"),
        "message_id": ("messageid",),
        "thread_id": ("threadid",),
        "subject": ("subject",),
        "body_text": ("body", "bodytext", "text"),
        "body_html": ("bodyhtml", "html"),
        "content_preview": ("contentpreview",),
        "from_address": ("fromaddressemail", "fromaddress", "from", "fromemail"),
        "to_list": ("toaddressemaillist", "to", "toemail", "toaddress"),
        "cc_list": ("ccaddressemaillist", "cc"),
        "bcc_list": ("bccaddressemaillist", "bcc"),
        "reply_to": ("replyto",),
        "eaccount": ("eaccount", "emailaccount"),
        "lead": ("lead", "leademail"),
        "lead_id": ("leadid",),
        "campaign_id": ("campaignid", "campaign"),
        "campaign_name": ("campaignname",),
        "subsequence_id": ("subsequenceid",),
        "list_id": ("listid",),
        "ue_type": ("uetype",),
        "step": ("step",),
        "is_auto_reply": ("isautoreply",),
        "is_unread": ("isunread",),
        "i_status": ("istatus",),
        "ai_interest_value": ("aiinterestvalue",),
        "timestamp_email": ("timestampemail",),
        "timestamp_created": ("timestampcreated",),
        "reminder_ts": ("remindertimestamp", "remindertime", "reminderts"),
    },
    nested={"body": {"text": "body_text", "html": "body_html"}},
)

EVENT_FIELDS = FieldSet(
    builtin={
        "id": ("id", "eventid"),
        "event_type": ("eventtype",),
        "timestamp": ("timestamp", "eventtimestamp", "occurredat"),
        "workspace": ("workspace", "workspaceid"),
        "campaign_id": ("campaignid", "campaign"),
        "campaign_name": ("campaignname",),
        "lead_email": ("leademail", "email", "lead"),
        "email_account": ("emailaccount", "eaccount"),
        "unibox_url": ("uniboxurl",),
        "step": ("step",),
        "variant": ("variant",),
        "is_first": ("isfirst",),
        "email_id": ("emailid",),
        "email_subject": ("emailsubject",),
        "email_text": ("emailtext",),
        "email_html": ("emailhtml",),
        "reply_subject": ("replysubject",),
        "reply_text": ("replytext",),
        "reply_text_snippet": ("replytextsnippet",),
        "reply_html": ("replyhtml",),
        "message_id": ("messageid",),
        "thread_id": ("threadid",),
    },
    # Webhooks carry the lead's own fields and custom variables at the top level.
    fallback=_LEAD_DATA_FALLBACK,
)

FIELD_SETS: dict[Kind, FieldSet] = {
    "leads": LEAD_FIELDS,
    "emails": EMAIL_FIELDS,
    "events": EVENT_FIELDS,
}

_EVENT_MARKERS = frozenset({"eventtype"})
_EMAIL_MARKERS = frozenset(
    {"uetype", "messageid", "eaccount", "timestampemail", "fromaddressemail", "toaddressemaillist"}
)
_LEAD_MARKERS = frozenset(LEAD_FIELDS.builtin["email"])


def classify(keys: Iterable[str]) -> Kind | None:
    """The kind of record these keys (or headers) describe, by shape; None if not Instantly's."""
    present = {key_of(k) for k in keys}
    if present & _EVENT_MARKERS:
        return "events"
    if present & _EMAIL_MARKERS:
        return "emails"
    if present & _LEAD_MARKERS:
        return "leads"
    return None
