"""Write the sample CSV inbox (`data/inbox/csv/`) that `make run` loads: about 300 contact rows
of fictional people across the common export dialects, plus a companies, a deals, a tasks and an
activities file.

The files overlap the way real exports do, so resolution has work to do: the same person in
HubSpot and Apollo (sometimes in another letter case), Gmail addresses with dots or `+tags`,
LinkedIn profiles matching Apollo's, nickname and typo variants in Salesforce, and a few bad rows
(an invalid address, blank rows, a short row). Seeded: every run writes the same bytes.

    .venv/bin/python scripts/make_sample_csv_inbox.py [OUTPUT_DIR]
"""

from __future__ import annotations

import csv
import io
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

SEED = 20250301
OUT = Path(__file__).resolve().parent.parent / "data" / "inbox" / "csv"
EPOCH = datetime(2024, 1, 8, 9, 0, tzinfo=UTC)
OWNERS = ("maria.lopez", "tom.becker", "aiko.sato")
OWN_DOMAIN = "northwind-labs.io"

# name | domain | industry | employees | calling code | country
_COMPANIES = """
Bluefin Analytics|bluefin-analytics.com|information technology & services|85|1|United States
Kestrel Robotics|kestrel-robotics.io|machinery|40|49|Germany
Copperleaf Health|copperleafhealth.com|hospital & health care|250|46|Sweden
Driftwood Logistics|driftwoodlogistics.com|logistics & supply chain|1800|1|United States
Lumen Foods GmbH|lumenfoods.de|food production|1200|49|Germany
Harborlight AI|harborlight.ai|computer software|30|81|Japan
Atelier Nord|atelier-nord.fr|design|12|33|France
Quarry Peak Capital|quarrypeak.com|venture capital & private equity|22|1|United States
Meridian Solar Co|meridiansolar.co|renewables & environment|140|34|Spain
Ironbark Software|ironbark.dev|computer software|60|61|Australia
Pinecrest Dental Group|pinecrestdental.com|medical practice|95|1|United States
Tidewater Freight|tidewaterfreight.com|transportation/trucking/railroad|430|1|United States
Nimbus Payroll|nimbuspayroll.io|financial services|75|44|United Kingdom
Orchard Lane Retail|orchardlane.shop|retail|320|44|United Kingdom
Brightwell Energy|brightwell-energy.com|oil & energy|900|31|Netherlands
Cobalt Ridge Security|cobaltridge.io|computer & network security|55|1|United States
Fjord Analytics AS|fjordanalytics.no|information technology & services|28|47|Norway
Atlântico Wines|atlantico-wines.pt|wine & spirits|65|351|Portugal
Café Rosé GmbH|cafe-rose.de|restaurants|210|49|Germany
Helix Biolabs|helixbiolabs.com|biotechnology|150|1|United States
Silverline Travel|silverlinetravel.co.uk|leisure, travel & tourism|48|44|United Kingdom
Redwood Ledger|redwoodledger.com|accounting|35|1|United States
Lakeside Learning|lakesidelearning.org|e-learning|18|1|Canada
Polar Ops|polarops.io|computer software|26|358|Finland
Saffron Kitchen Co|saffronkitchen.co|food & beverages|70|91|India
"""
FIRST = (
    "Priya", "Jonas", "Sofia", "Diego", "Hannah", "Kenji", "Marta", "Amara", "Lucas", "Chloé",
    "Ines", "Bjørn", "Yuki", "Robert", "Katherine", "William", "Elena", "Omar", "Grace", "Mateo",
    "Aisha", "Liam", "Noor", "Felix", "Olivia", "Rahul", "Zoë", "Daniel", "Fatima", "Henrik",
    "Isabel", "Jamal", "Lena", "Marco", "Nadia", "Oscar", "Paula", "Samuel", "Tara", "Victor",
)  # fmt: skip
LAST = (
    "Raman", "Weber", "Lindqvist", "Fernández", "Schmidt", "Watanabe", "Kowalska", "Okafor",
    "Moreau", "Martin", "Duarte", "Håland", "Nakamura", "Johnson", "Murphy", "O'Brien", "Rossi",
    "Haddad", "Chen", "García", "Khan", "Walsh", "Aziz", "Becker", "Brown", "Mehta", "Müller",
    "Cohen", "Ali", "Berg", "Santos", "Carter", "Vogel", "Bianchi", "Petrova", "Nilsson",
)  # fmt: skip
TITLES = (
    "CEO", "CFO", "CTO", "VP Sales", "VP Marketing", "Head of Data", "Head of Operations",
    "Procurement Manager", "Data Engineer", "Account Executive", "Office Manager", "Founder",
    "Director of IT", "Marketing Manager", "Software Engineer", "Operations Lead",
)  # fmt: skip
NICKNAMES = {
    "Robert": "Bob",
    "Katherine": "Kate",
    "William": "Bill",
    "Daniel": "Dan",
    "Samuel": "Sam",
}
FREE_MAIL = ("gmail.com", "gmail.com", "outlook.com", "yahoo.com")
LEAD_STATUS = ("New", "Open", "In progress", "Connected", "Attempted to contact", "Unqualified")
SF_SOURCES = ("Web", "Phone Inquiry", "Partner Referral", "Trade Show", "Purchased List", "Other")
DEAL_STAGES = (
    "Appointment Scheduled", "Qualified To Buy", "Presentation Scheduled", "Contract Sent",
    "Closed Won", "Closed Lost",
)  # fmt: skip
_ASCII = str.maketrans("áéíóúñçãøåöüßëï'", "aeiouncaoaousei ")


@dataclass(frozen=True)
class Company:
    name: str
    domain: str
    industry: str
    employees: int
    calling_code: str
    country: str


def _company(line: str) -> Company:
    name, domain, industry, employees, code, country = (cell.strip() for cell in line.split("|"))
    return Company(name, domain, industry, int(employees), code, country)


COMPANIES = tuple(_company(line) for line in _COMPANIES.strip().splitlines())


@dataclass(frozen=True)
class Person:
    index: int
    first: str
    last: str
    company: Company
    title: str
    email: str
    phone: str
    slug: str  # LinkedIn profile
    created: datetime
    owner: str


def _ascii(text: str) -> str:
    return text.lower().translate(_ASCII).replace(" ", "")


def make_people(rng: random.Random, count: int) -> list[Person]:
    """Distinct fictional people; most on their company's domain, some on free mail."""
    people: list[Person] = []
    names: set[tuple[str, str]] = set()
    while len(people) < count:
        first, last = rng.choice(FIRST), rng.choice(LAST)
        if (first, last) in names:
            continue
        names.add((first, last))
        company = rng.choice(COMPANIES)
        f, l_ = _ascii(first), _ascii(last)
        if rng.random() < 0.15:
            email = f"{f}{l_}{rng.randrange(10, 99)}@{rng.choice(FREE_MAIL)}"
        else:
            local = rng.choice((f"{f}.{l_}", f"{f}.{l_}", f"{f[0]}{l_}", f))
            email = f"{local}@{company.domain}"
        digits = f"{rng.randrange(200, 999)} {rng.randrange(100, 999)} {rng.randrange(1000, 9999)}"
        people.append(
            Person(
                index=len(people),
                first=first,
                last=last,
                company=company,
                title=rng.choice(TITLES),
                email=email,
                phone=f"+{company.calling_code} {digits}",
                slug=f"{f}-{l_}-{rng.randrange(100, 999)}",
                created=EPOCH + timedelta(days=rng.randrange(420), minutes=rng.randrange(1440)),
                owner=f"{rng.choice(OWNERS)}@{OWN_DOMAIN}",
            )
        )
    return people


def write_csv(
    path: Path,
    header: list[str],
    rows: list[dict[str, str]],
    *,
    quote_all: bool = False,
    delimiter: str = ",",
    newline: str = "\n",
    encoding: str = "utf-8",
    preamble: str = "",
    footer: str = "",
) -> None:
    """Rows are dicts by header; a row given as a list is written as is (to make broken rows)."""
    buffer = io.StringIO()
    quoting = csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=newline, quoting=quoting)
    writer.writerow(header)
    for row in rows:
        writer.writerow(row if isinstance(row, list) else [row.get(h, "") for h in header])
    path.write_bytes((preamble + buffer.getvalue() + footer).encode(encoding))


def gmail_variant(rng: random.Random, email: str) -> str:
    """The same Gmail mailbox written another way: a dot inserted or a +tag."""
    local, domain = email.split("@")
    if domain != "gmail.com":
        return email
    if rng.random() < 0.5:
        cut = rng.randrange(1, len(local))
        return f"{local[:cut]}.{local[cut:]}@{domain}"
    return f"{local}+{rng.choice(('news', 'crm', 'work'))}@{domain}"


def typo(rng: random.Random, word: str) -> str:
    """Two neighbouring letters swapped."""
    cut = rng.randrange(1, len(word) - 1)
    return word[:cut] + word[cut + 1] + word[cut] + word[cut + 2 :]


def hubspot_contacts(rng: random.Random, people: list[Person]) -> tuple[list[str], list]:
    header = [
        "Record ID", "First Name", "Last Name", "Email", "Phone Number", "Contact owner",
        "Primary Associated Company ID", "Last Activity Date", "Lead Status",
        "Marketing contact status", "Create Date", "Associated Company",
    ]  # fmt: skip
    rows: list = [
        {
            "Record ID": str(51_200_000 + p.index),
            "First Name": p.first,
            "Last Name": p.last,
            "Email": p.email,
            "Phone Number": p.phone if rng.random() < 0.7 else "",
            "Contact owner": p.owner,
            "Primary Associated Company ID": str(9000 + COMPANIES.index(p.company)),
            "Last Activity Date": (p.created + timedelta(days=rng.randrange(1, 60))).strftime(
                "%Y-%m-%d %H:%M"
            ),
            "Lead Status": rng.choice(LEAD_STATUS),
            "Marketing contact status": rng.choice(("Marketing contact", "Non-marketing contact")),
            "Create Date": p.created.strftime("%Y-%m-%d %H:%M"),
            "Associated Company": p.company.name,
        }
        for p in people
    ]
    rows.insert(17, {})  # a blank row, as spreadsheets leave them
    invalid = {"Record ID": "51299999", "First Name": "Jane", "Last Name": "Doe"}
    rows.insert(31, {**invalid, "Email": "jane.doe@@bluefin-analytics", "Lead Status": "New"})
    return header, rows


def salesforce_report(rng: random.Random, people: list[Person]) -> tuple[list[str], list]:
    header = [
        "Contact Owner", "First Name", "Last Name", "Title", "Account Name", "Email", "Phone",
        "Mobile", "Lead Source", "Mailing Country", "Created Date", "Contact ID",
    ]  # fmt: skip
    rows = []
    for p in people:
        nickname = NICKNAMES.get(p.first, p.first) if rng.random() < 0.6 else p.first
        rows.append(
            {
                "Contact Owner": p.owner,
                "First Name": nickname,
                "Last Name": typo(rng, p.last) if rng.random() < 0.1 else p.last,
                "Title": p.title,
                "Account Name": p.company.name,
                "Email": p.email if rng.random() < 0.7 else "",  # name + company must do
                "Phone": p.phone,
                "Lead Source": rng.choice(SF_SOURCES),
                "Mailing Country": p.company.country,
                "Created Date": f"{p.created.month}/{p.created.day}/{p.created.year}",
                "Contact ID": f"0035g00000{p.index:05d}AAF",
            }
        )
    return header, rows


def apollo_people(rng: random.Random, people: list[Person]) -> tuple[list[str], list]:
    header = [
        "First Name", "Last Name", "Title", "Company Name", "Email", "Email Status",
        "Primary Email Source", "Seniority", "Work Direct Phone", "Mobile Phone", "Corporate Phone",
        "Lists", "Person Linkedin Url", "Country", "Secondary Email", "Apollo Contact Id",
    ]  # fmt: skip
    rows: list = []
    for p in people:
        email = p.email
        if rng.random() < 0.15:  # the same mailbox in another letter case
            email = email.upper() if rng.random() < 0.5 else email[0].upper() + email[1:]
        secondary = f"{_ascii(p.first)}.{_ascii(p.last)}@gmail.com" if rng.random() < 0.2 else ""
        rows.append(
            {
                "First Name": p.first,
                "Last Name": p.last,
                "Title": p.title,
                "Company Name": p.company.name,
                "Email": email,
                "Email Status": rng.choice(("Verified", "Verified", "Guessed", "Unavailable")),
                "Primary Email Source": "Apollo",
                "Seniority": rng.choice(("C suite", "VP", "Director", "Manager", "Senior")),
                "Work Direct Phone": f"'{p.phone}" if rng.random() < 0.5 else "",
                "Corporate Phone": f"'+{p.company.calling_code} 555 0100",
                "Lists": rng.choice(("Q1 Outbound", "Q1 Outbound, ICP Tier 1", "Webinar 2025", "")),
                "Person Linkedin Url": f"http://www.linkedin.com/in/{p.slug}",
                "Country": p.company.country,
                "Secondary Email": secondary,
                "Apollo Contact Id": f"65a{p.index:021x}",
            }
        )
    short = ["Lena", "Vogel", "CFO", "Redwood Ledger", "lena.vogel@redwoodledger.com"]
    rows.insert(12, short)  # a row cut short: rejected for its field count
    return header, rows


LINKEDIN_PREAMBLE = (
    'Notes:\n"When exporting your connection data, you may notice that some of the email addresses'
    " are missing. You will only see email addresses for connections who have allowed their"
    " connections to see or download their email address using this setting"
    " https://www.linkedin.com/psettings/privacy/email. You can learn more here"
    ' https://www.linkedin.com/help/linkedin/answer/261"\n\n'
)


def linkedin_connections(rng: random.Random, people: list[Person]) -> tuple[list[str], list]:
    header = [
        "First Name",
        "Last Name",
        "URL",
        "Email Address",
        "Company",
        "Position",
        "Connected On",
    ]
    rows: list = [
        {
            "First Name": p.first,
            "Last Name": p.last,
            "URL": f"https://www.linkedin.com/in/{p.slug}",
            "Email Address": p.email if rng.random() < 0.2 else "",
            "Company": p.company.name,
            "Position": p.title,
            "Connected On": (p.created + timedelta(days=rng.randrange(-300, 30))).strftime(
                "%d %b %Y"
            ),
        }
        for p in people
    ]
    rows.insert(9, {"Connected On": "02 Jun 2022"})  # LinkedIn's row with only a date
    return header, rows


def google_contacts(rng: random.Random, people: list[Person]) -> tuple[list[str], list]:
    header = [
        "First Name", "Middle Name", "Last Name", "Nickname", "Organization Name",
        "Organization Title", "Notes", "Labels", "E-mail 1 - Label", "E-mail 1 - Value",
        "E-mail 2 - Label", "E-mail 2 - Value", "Phone 1 - Label", "Phone 1 - Value",
    ]  # fmt: skip
    rows = []
    for p in people:
        emails = gmail_variant(rng, p.email)
        if rng.random() < 0.2:
            emails += f" ::: {_ascii(p.first)}@{p.company.domain}"
        labels = ("* myContacts", "* myContacts ::: Customers", "* myContacts ::: Partners")
        rows.append(
            {
                "First Name": p.first,
                "Last Name": p.last,
                "Nickname": NICKNAMES.get(p.first, ""),
                "Organization Name": p.company.name,
                "Organization Title": p.title,
                "Labels": rng.choice(labels),
                "E-mail 1 - Label": "* Work",
                "E-mail 1 - Value": emails,
                "Phone 1 - Label": "Mobile",
                "Phone 1 - Value": p.phone,
            }
        )
    return header, rows


def outlook_german(rng: random.Random, people: list[Person]) -> tuple[list[str], list]:
    header = [
        "Anrede", "Vorname", "Nachname", "Firma", "Position", "Telefon geschäftlich",
        "Mobiltelefon", "E-Mail-Adresse", "E-Mail-Typ", "E-Mail: Angezeigter Name", "Kategorien",
        "Notizen",
    ]  # fmt: skip
    rows = []
    for p in people:
        email = p.email.upper() if rng.random() < 0.3 else p.email
        rows.append(
            {
                "Anrede": rng.choice(("Herr", "Frau", "")),
                "Vorname": p.first,
                "Nachname": p.last,
                "Firma": p.company.name,
                "Position": p.title,
                "Telefon geschäftlich": p.phone,
                "E-Mail-Adresse": email,
                "E-Mail-Typ": "SMTP",
                "E-Mail: Angezeigter Name": f"{p.first} {p.last} ({email})",
                "Kategorien": rng.choice(("Kunden", "Messe 2024", "")),
                "Notizen": rng.choice(("", "Größe: 40 Filialen", "Rückruf erwünscht")),
            }
        )
    return header, rows


def apollo_accounts(rng: random.Random) -> tuple[list[str], list]:
    header = [
        "Company Name", "Company Name for Emails", "# Employees", "Industry", "Website",
        "Company Linkedin Url", "Company Country", "Keywords", "Apollo Record Id",
        "Short Description", "Founded Year", "Subsidiary of (Organization ID)",
    ]  # fmt: skip
    rows = []
    for i, c in enumerate(COMPANIES):
        rows.append(
            {
                "Company Name": c.name,
                "Company Name for Emails": c.name.split()[0],
                "# Employees": str(c.employees),
                "Industry": c.industry,
                "Website": rng.choice((f"http://www.{c.domain}", f"https://{c.domain}", c.domain)),
                "Company Linkedin Url": f"http://www.linkedin.com/company/{c.domain.split('.')[0]}",
                "Company Country": c.country,
                "Keywords": rng.choice(("b2b, saas", "enterprise", "smb, services", "")),
                "Apollo Record Id": f"5e8a{i:020x}",
                "Short Description": f"{c.name} serves customers in {c.country}.",
                "Founded Year": str(rng.randrange(1990, 2022)),
            }
        )
    return header, rows


def hubspot_deals(rng: random.Random, people: list[Person]) -> tuple[list[str], list]:
    header = [
        "Record ID", "Deal Name", "Deal Stage", "Pipeline", "Amount", "Close Date", "Deal owner",
        "Create Date", "Associated Contact", "Associated Company",
    ]  # fmt: skip
    rows = []
    for i, p in enumerate(people):
        created = p.created + timedelta(days=rng.randrange(5, 40))
        rows.append(
            {
                "Record ID": str(8_810_000 + i),
                "Deal Name": f"{p.company.name} - {rng.choice(('Annual', 'Pilot', 'Expansion'))}",
                "Deal Stage": rng.choice(DEAL_STAGES),
                "Pipeline": rng.choice(("Sales Pipeline", "Renewals")),
                "Amount": str(rng.randrange(20, 400) * 250),
                "Close Date": (created + timedelta(days=60)).strftime("%Y-%m-%d"),
                "Deal owner": p.owner,
                "Create Date": created.strftime("%Y-%m-%d %H:%M"),
                "Associated Contact": f"{p.first} {p.last} ({p.email})",
                "Associated Company": p.company.name,
            }
        )
    return header, rows


def tasks(rng: random.Random, people: list[Person]) -> tuple[list[str], list]:
    header = ["Task Title", "Due Date", "Priority", "Status", "Contact email", "Assigned To"]
    titles = ("Send pricing", "Follow up after demo", "Book intro call", "Share case study")
    rows = [
        {
            "Task Title": f"{rng.choice(titles)} ({p.first})",
            "Due Date": (p.created + timedelta(days=rng.randrange(3, 30))).strftime("%Y-%m-%d"),
            "Priority": rng.choice(("High", "Medium", "Low")),
            "Status": rng.choice(("Not started", "Completed", "In progress")),
            "Contact email": p.email,
            "Assigned To": p.owner,
        }
        for p in people
    ]
    return header, rows


def activities(rng: random.Random, people: list[Person]) -> tuple[list[str], list]:
    header = [
        "Activity Type", "Subject", "Activity Date", "Contact Email", "Company Domain", "Notes",
        "Duration (seconds)", "Direction", "Activity Owner",
    ]  # fmt: skip
    rows = []
    for p in people:
        kind = rng.choice(("Call", "Meeting", "Note", "Email"))
        when = p.created + timedelta(days=rng.randrange(1, 50), hours=rng.randrange(8))
        notes = ("", "Interested in a pilot.", "Asked about pricing,\nsend deck.")
        rows.append(
            {
                "Activity Type": kind,
                "Subject": f"{kind} with {p.first} {p.last}",
                "Activity Date": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "Contact Email": p.email,
                "Company Domain": p.company.domain,
                "Notes": rng.choice(notes),
                "Duration (seconds)": str(rng.randrange(60, 3600))
                if kind in ("Call", "Meeting")
                else "",
                "Direction": rng.choice(("Outbound", "Inbound")) if kind != "Note" else "",
                "Activity Owner": p.owner,
            }
        )
    return header, rows


SALESFORCE_FOOTER = (
    '\r\n"Grand Totals ({n} records)"\r\n\r\n"Confidential Information - Do Not Distribute"\r\n'
    '"Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."\r\n'
)


def main(out: Path) -> None:
    rng = random.Random(SEED)
    people = make_people(rng, 210)
    hubspot, apollo = people[:80], people[50:110]  # 30 people in both, same address
    gmail_users = [p for p in people[:150] if p.email.endswith("@gmail.com")]
    files: list[tuple[str, Callable[[], tuple[list[str], list]], dict]] = [
        (
            "hubspot_contacts_export.csv",
            lambda: hubspot_contacts(rng, hubspot),
            {"quote_all": True},
        ),
        ("apollo_people.csv", lambda: apollo_people(rng, apollo), {}),
        (
            "salesforce_report.csv",
            lambda: salesforce_report(rng, people[100:120] + rng.sample(people[:100], 15)),
            {"quote_all": True, "newline": "\r\n", "footer": SALESFORCE_FOOTER.format(n=35)},
        ),
        (
            "Connections.csv",
            lambda: linkedin_connections(rng, people[120:150] + rng.sample(apollo, 20)),
            {"preamble": LINKEDIN_PREAMBLE},
        ),
        ("google_contacts.csv", lambda: google_contacts(rng, people[150:175] + gmail_users), {}),
        (
            "outlook_kontakte.csv",
            lambda: outlook_german(rng, people[175:195] + rng.sample(hubspot, 5)),
            {"quote_all": True, "delimiter": ";", "newline": "\r\n", "encoding": "cp1252"},
        ),
        ("apollo_accounts.csv", lambda: apollo_accounts(rng), {}),
        (
            "hubspot_deals.csv",
            lambda: hubspot_deals(rng, rng.sample(hubspot, 20)),
            {"quote_all": True},
        ),
        ("tasks.csv", lambda: tasks(rng, rng.sample(people[:120], 20)), {}),
        ("activities.csv", lambda: activities(rng, rng.sample(people[:150], 40)), {}),
    ]
    out.mkdir(parents=True, exist_ok=True)
    for name, build, options in files:
        header, rows = build()
        write_csv(out / name, header, rows, **options)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
