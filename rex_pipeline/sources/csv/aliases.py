"""Header alias tables: which header spellings mean which raw field, per entity kind.

Exports name the same thing many ways ("E-mail Address", "email", "Work Email", "E-Mail-Adresse"
in a German Outlook). Headers are compared by `header_key` (case-, space-, punctuation- and
underscore-insensitive), and each field lists its spellings in priority order: when several
columns of a file feed one field, the first listed that has a value wins and the others are kept
in `metadata` (or, for addresses, in `other_emails`).
"""

from __future__ import annotations

import re
from typing import Literal

EntityKind = Literal["contacts", "companies", "activities", "deals", "tasks"]
ENTITY_KINDS: tuple[EntityKind, ...] = ("contacts", "companies", "activities", "deals", "tasks")

_NOT_ALNUM = re.compile(r"[\W_]+")


def header_key(header: str) -> str:
    """The comparison key of a header: "E-mail Address" and "email_address" both give
    "emailaddress"; letters outside ASCII (Straße, Prénom) are kept."""
    return _NOT_ALNUM.sub("", header.casefold())


# Spellings are written as they appear in real exports; keys are derived once below.
_CONTACT: dict[str, tuple[str, ...]] = {
    "email": (
        "Email",
        "E-mail",
        "Email Address",
        "E-mail Address",
        "E-mail 1 - Value",
        "Primary Email",
        "Work Email",
        "Business Email",
        "Mail",
        "E-Mail-Adresse",  # Outlook, German
        "Adresse de messagerie",  # Outlook, French
        "Dirección de correo electrónico",  # Outlook, Spanish
        "Correo electrónico",
    ),
    "other_emails": (
        "Secondary Email",
        "Tertiary Email",
        "E-mail 2 - Value",
        "E-mail 3 - Value",
        "E-mail 2 Address",
        "E-mail 3 Address",
        "Email 2",
        "Email 3",
        "Other Email",
        "Personal Email",
        "Private e-mail address",
        "Additional Emails",
        "E-Mail 2: Adresse",
        "E-Mail 3: Adresse",
        "Adresse de messagerie 2",
        "Adresse de messagerie 3",
    ),
    "full_name": ("Name", "Full Name", "Contact Name", "Display Name", "Person Name"),
    "first_name": (
        "First Name",
        "Given Name",
        "First",
        "FName",
        "Vorname",
        "Prénom",
        "Nombre",
    ),
    "last_name": (
        "Last Name",
        "Family Name",
        "Surname",
        "Last",
        "LName",
        "Nachname",
        "Nom",
        "Apellidos",
    ),
    "phone": (
        "Mobile Phone",
        "Mobile Phone Number",
        "Mobile",
        "Cell Phone",
        "Cell",
        "Work Direct Phone",
        "Direct Phone",
        "Phone",
        "Phone Number",
        "Phone 1 - Value",
        "Telephone",
        "Work Phone",
        "Business Phone",
        "Primary Phone",
        "Mobiltelefon",
        "Telefon geschäftlich",
        "Téléphone mobile",
        "Téléphone (bureau)",
        "Teléfono móvil",
        "Corporate Phone",
        "Home Phone",
        "Telefon privat",
        "Other Phone",
    ),
    "title": (
        "Job Title",
        "Title",
        "Position",
        "Role",
        "Organization Title",
        "Organization 1 - Title",
        "Fonction",
        "Puesto",
    ),
    "linkedin_url": (
        "LinkedIn URL",
        "Person Linkedin Url",
        "LinkedIn",
        "LinkedIn Profile",
        "LinkedIn Profile URL",
        "Profile URL",
    ),
    "company_name": (
        "Company",
        "Company Name",
        "Organization",
        "Organisation",
        "Organization Name",
        "Organization 1 - Name",
        "Account Name",
        "Associated Company",
        "Employer",
        "Firma",
        "Société",
        "Organización",
    ),
    "company_domain": (
        "Company Domain Name",
        "Company Domain",
        "Domain",
        "Website",
        "Company Website",
        "Website URL",
        "Webseite",
    ),
    "stage": ("Lifecycle Stage", "Lead Status", "Stage", "Contact Stage"),
    "source": ("Original Source", "Lead Source", "Latest Source", "Source"),
    "source_detail": (
        "Original Source Drill-Down 1",
        "Lead Source Detail",
        "Source Detail",
        "Campaign",
        "UTM Campaign",
    ),
    "owner": ("Contact Owner", "Owner", "Owner Name", "Lead Owner", "Sales Rep", "Assigned To"),
    "tags": ("Tags", "Tag", "Lists", "Labels", "Group Membership", "Categories", "Kategorien"),
    "created_at": (
        "Create Date",
        "Created Date",
        "Created At",
        "Created",
        "Date Created",
        "Connected On",
        "Object create date/time",
    ),
    "updated_at": (
        "Last Modified Date",
        "Updated At",
        "Last Updated",
        "Date Modified",
        "Modified",
    ),
}

_COMPANY: dict[str, tuple[str, ...]] = {
    "name": (
        "Company Name",
        "Company",
        "Name",
        "Account Name",
        "Organization",
        "Organisation",
        "Organization Name",
        "Firma",
    ),
    "domain": (
        "Company Domain Name",
        "Company Domain",
        "Domain",
        "Website",
        "Company Website",
        "Website URL",
        "Web Site",
        "URL",
    ),
    "industry": ("Industry", "Sector", "Branche"),
    "size": (
        "Number of Employees",
        "# Employees",
        "Employees",
        "Employee Count",
        "Company Size",
        "Headcount",
        "Size",
    ),
    "description": ("Description", "Short Description", "About Us", "About", "Company Description"),
    "linkedin_url": ("Company Linkedin Url", "LinkedIn URL", "LinkedIn", "LinkedIn Company Page"),
    "created_at": _CONTACT["created_at"],
    "updated_at": _CONTACT["updated_at"],
}

# Deals, tasks and activities link to people by address and to companies by domain or name.
_CONTACT_REF = (
    "Contact Email",
    "Associated Contact Email",
    "Primary Contact Email",
    "Email",
    "Email Address",
    "Associated Contact",
    "Contact",
)
_COMPANY_DOMAIN_REF = (
    "Company Domain",
    "Associated Company Domain",
    "Company Domain Name",
    "Domain",
)
_COMPANY_NAME_REF = (
    "Associated Company",
    "Company",
    "Company Name",
    "Account Name",
    "Company / Account",
    "Account",
)

_DEAL: dict[str, tuple[str, ...]] = {
    "name": ("Deal Name", "Opportunity Name", "Dealname", "Name", "Deal", "Opportunity"),
    "contact_email": _CONTACT_REF,
    "company_domain": _COMPANY_DOMAIN_REF,
    "company_name": _COMPANY_NAME_REF,
    "pipeline": ("Pipeline", "Deal Pipeline", "Sales Pipeline"),
    "stage": ("Deal Stage", "Stage", "StageName", "Opportunity Stage"),
    "value": ("Amount", "Deal Amount", "Deal Value", "Value", "Opportunity Amount"),
    "currency": ("Currency", "Deal Currency Code", "Currency Code", "CurrencyIsoCode"),
    "status": ("Deal Status", "Status"),
    "owner": ("Deal Owner", "Opportunity Owner", "Owner", "Owner Name"),
    "created_at": _CONTACT["created_at"],
    "updated_at": _CONTACT["updated_at"],
}

_TASK: dict[str, tuple[str, ...]] = {
    "title": ("Task Title", "Task Subject", "Title", "Subject", "Task Name", "Task", "Name"),
    "contact_email": _CONTACT_REF,
    "priority": ("Priority", "Task Priority"),
    "status": ("Task Status", "Status"),
    "due_at": ("Due Date", "Due At", "Due", "ActivityDate"),
    "owner": ("Task Owner", "Assigned To", "Assigned", "Owner", "Activity assigned to"),
    "created_at": _CONTACT["created_at"],
    "updated_at": _CONTACT["updated_at"],
}

_ACTIVITY: dict[str, tuple[str, ...]] = {
    "type": ("Activity Type", "Engagement Type", "Type"),
    "subtype": ("Activity Subtype", "Subtype", "Call Outcome", "Outcome"),
    "status": ("Activity Status", "Status"),
    "subject": ("Subject", "Activity Subject", "Email Subject", "Meeting Name", "Title"),
    "body": (
        "Body",
        "Activity Body",
        "Notes",
        "Note",
        "Description",
        "Comments",
        "Full Comments",
        "Details",
        "Content",
    ),
    "contact_email": _CONTACT_REF,
    "company_domain": _COMPANY_DOMAIN_REF,
    "company_name": _COMPANY_NAME_REF,
    "deal_ref": ("Associated Deal", "Deal", "Deal Name", "Opportunity", "Opportunity Name"),
    "owner": ("Activity Owner", "Activity assigned to", "Owner", "Assigned To", "Assigned"),
    "occurred_at": (
        "Activity Date",
        "Occurred At",
        "Date",
        "Timestamp",
        "Start Time",
        "Created Date",
        "Create Date",
    ),
    "duration": (
        "Duration (seconds)",
        "Call Duration (seconds)",
        "Call Duration",
        "Duration",
        "Duration (minutes)",
        "Call duration (ms)",
        "Call duration (HH:mm:ss)",
    ),
    "direction": ("Direction", "Call Direction", "Email Direction"),
}


def _keyed(table: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    return {field: tuple(dict.fromkeys(header_key(h) for h in hs)) for field, hs in table.items()}


ALIASES: dict[EntityKind, dict[str, tuple[str, ...]]] = {
    "contacts": _keyed(_CONTACT),
    "companies": _keyed(_COMPANY),
    "deals": _keyed(_DEAL),
    "tasks": _keyed(_TASK),
    "activities": _keyed(_ACTIVITY),
}

# Headers that say which kind of record a file holds (beyond the fields every kind shares).
KIND_MARKERS: dict[EntityKind, frozenset[str]] = {
    "deals": frozenset(
        header_key(h)
        for h in (
            "Deal Name",
            "Dealname",
            "Deal Stage",
            "Deal Owner",
            "Deal Amount",
            "Pipeline",
            "Opportunity Name",
            "Opportunity Owner",
            "Opportunity Stage",
            "StageName",
            "Amount",
            "Close Date",
            "Probability (%)",
        )
    ),
    "tasks": frozenset(
        header_key(h)
        for h in (
            "Task Title",
            "Task Subject",
            "Task Name",
            "Task Status",
            "Task Priority",
            "Task Owner",
            "Due Date",
            "Due At",
            "Priority",
            "ActivityDate",
        )
    ),
    "activities": frozenset(
        header_key(h)
        for h in (
            "Activity Type",
            "Activity Date",
            "Activity Subject",
            "Activity Body",
            "Engagement Type",
            "Call Outcome",
            "Call Duration",
            "Duration",
            "Direction",
            "Email Subject",
            "Meeting Name",
            "Occurred At",
            "Type",
        )
    ),
}

# A column naming a linked person ("Contact Email") is what deal/task/activity files have and a
# contact file does not ("Email").
CONTACT_REFERENCES = frozenset(
    header_key(h)
    for h in (
        "Contact Email",
        "Associated Contact Email",
        "Primary Contact Email",
        "Associated Contact",
        "Contact",
    )
)

# Headers that only a list of people has ("Name" alone could be a company's).
PERSON_FIELDS = ("email", "first_name", "last_name", "linkedin_url")
PERSON_NAME_KEYS = frozenset(header_key(h) for h in ("Full Name", "Contact Name", "Person Name"))
