"""Free-text industries -> one short list.

Companies arrive with Apollo's vocabulary (lower case, "information technology & services"),
LinkedIn's old one ("Computer Software", "Hospital & Health Care") and its 2022 one ("Software
Development", "IT Services and IT Consulting"), HubSpot's enum (COMPUTER_SOFTWARE) or whatever
someone typed. Known vocabulary values map exactly; anything else goes through keyword rules;
text that is present but matches nothing is "Other" (known, just not a listed industry).
"""

from __future__ import annotations

import re

import polars as pl

from rex_pipeline.score.text import map_unique, normalise

OTHER = "Other"

# Canonical industry -> the vendor vocabulary values that mean it.
_VOCABULARY: dict[str, tuple[str, ...]] = {
    "Software": (
        "computer software",
        "software development",
        "software",
        "saas",
        "enterprise software",
        "it system custom software development",
        "desktop computing software products",
        "embedded software products",
        "mobile computing software products",
    ),
    "IT Services": (
        "information technology and services",
        "information technology & services",
        "it services and it consulting",
        "it services",
        "it consulting",
        "information services",
        "it system data services",
        "it system operations and maintenance",
        "it system design services",
        "computer networking",
        "computer networking products",
        "data infrastructure and analytics",
        "technology",
        "information technology",
    ),
    "Internet": (
        "internet",
        "technology information and internet",
        "technology, information and internet",
        "internet publishing",
        "internet marketplace platforms",
        "internet news",
        "online audio and video media",
        "social networking platforms",
        "business intelligence platforms",
    ),
    "Cybersecurity": (
        "computer and network security",
        "computer & network security",
        "network security",
        "cybersecurity",
        "cyber security",
        "information security",
    ),
    "Hardware & Semiconductors": (
        "computer hardware",
        "computer hardware manufacturing",
        "computers and electronics manufacturing",
        "semiconductors",
        "semiconductor manufacturing",
        "consumer electronics",
        "electrical electronic manufacturing",
        "appliances electrical and electronics manufacturing",
        "nanotechnology",
    ),
    "Telecommunications": (
        "telecommunications",
        "telecommunication",
        "wireless",
        "telecommunications carriers",
        "wireless services",
        "satellite telecommunications",
    ),
    "Financial Services": (
        "financial services",
        "investment management",
        "investment banking",
        "capital markets",
        "venture capital and private equity",
        "venture capital and private equity principals",
        "fintech",
        "investment advice",
        "funds and trusts",
    ),
    "Banking": ("banking",),
    "Insurance": ("insurance",),
    "Healthcare": (
        "hospital and health care",
        "hospitals and health care",
        "health wellness and fitness",
        "wellness and fitness services",
        "medical practice",
        "medical practices",
        "medical devices",
        "medical equipment manufacturing",
        "mental health care",
        "hospitals",
        "healthcare",
        "health care",
    ),
    "Biotech & Pharma": (
        "biotechnology",
        "biotechnology research",
        "pharmaceuticals",
        "pharmaceutical manufacturing",
        "life sciences",
    ),
    "Marketing & Advertising": (
        "marketing and advertising",
        "advertising services",
        "marketing services",
        "public relations and communications",
        "public relations and communications services",
        "market research",
    ),
    "Media & Entertainment": (
        "media production",
        "broadcast media",
        "broadcast media production and distribution",
        "entertainment",
        "entertainment providers",
        "online media",
        "publishing",
        "book and periodical publishing",
        "newspapers",
        "newspaper publishing",
        "music",
        "musicians",
        "motion pictures and film",
        "movies videos and sound",
        "computer games",
        "video games",
        "animation",
        "animation and post production",
    ),
    "Education": (
        "higher education",
        "education management",
        "education administration programs",
        "e learning",
        "e learning providers",
        "primary secondary education",
        "primary and secondary education",
        "professional training and coaching",
        "education",
    ),
    "Retail & E-commerce": (
        "retail",
        "consumer goods",
        "consumer services",
        "apparel and fashion",
        "retail apparel and fashion",
        "luxury goods and jewelry",
        "cosmetics",
        "sporting goods",
        "supermarkets",
        "wholesale",
        "online and mail order retail",
        "e commerce",
        "ecommerce",
        "food and beverages",
        "food and beverage services",
        "food production",
        "food and beverage manufacturing",
    ),
    "Manufacturing": (
        "machinery",
        "machinery manufacturing",
        "mechanical or industrial engineering",
        "industrial machinery manufacturing",
        "industrial automation",
        "automation machinery manufacturing",
        "automotive",
        "motor vehicle manufacturing",
        "aviation and aerospace",
        "aviation and aerospace component manufacturing",
        "defense and space",
        "defense and space manufacturing",
        "chemicals",
        "chemical manufacturing",
        "plastics",
        "plastics manufacturing",
        "textiles",
        "paper and forest products",
        "packaging and containers",
        "manufacturing",
    ),
    "Professional Services": (
        "management consulting",
        "business consulting and services",
        "accounting",
        "legal services",
        "law practice",
        "law firms",
        "research",
        "research services",
        "outsourcing offshoring",
        "outsourcing and offshoring consulting",
        "professional services",
        "translation and localization",
        "design",
        "design services",
        "graphic design",
    ),
    "Staffing & Recruiting": (
        "staffing and recruiting",
        "human resources",
        "human resources services",
        "executive search services",
        "temporary help services",
    ),
    "Real Estate & Construction": (
        "real estate",
        "commercial real estate",
        "construction",
        "architecture and planning",
        "architecture planning",
        "building materials",
        "civil engineering",
        "leasing real estate",
        "building construction",
    ),
    "Energy & Utilities": (
        "oil and energy",
        "oil and gas",
        "renewables and environment",
        "renewable energy semiconductor manufacturing",
        "utilities",
        "mining and metals",
        "mining",
        "environmental services",
        "electric power generation",
        "solar electric power generation",
    ),
    "Transportation & Logistics": (
        "logistics and supply chain",
        "transportation trucking railroad",
        "truck transportation",
        "airlines aviation",
        "airlines and aviation",
        "maritime",
        "maritime transportation",
        "package freight delivery",
        "freight and package transportation",
        "warehousing",
        "warehousing and storage",
        "import and export",
    ),
    "Hospitality & Travel": (
        "hospitality",
        "leisure travel and tourism",
        "travel arrangements",
        "restaurants",
        "hotels and motels",
        "events services",
        "recreational facilities and services",
        "recreational facilities",
    ),
    "Government & Non-profit": (
        "government administration",
        "government relations",
        "government relations services",
        "non profit organization management",
        "non profit organizations",
        "nonprofit organization management",
        "public policy",
        "public policy offices",
        "international affairs",
        "military",
        "armed forces",
        "civic and social organization",
        "civic and social organizations",
        "religious institutions",
        "philanthropy",
        "philanthropic fundraising services",
        "fund raising",
        "law enforcement",
        "public safety",
    ),
}

INDUSTRIES: tuple[str, ...] = (*_VOCABULARY, OTHER)

_EXACT: dict[str, str] = {
    normalise(value): industry for industry, values in _VOCABULARY.items() for value in values
}

# Keyword fallbacks for text outside the vendor vocabularies, most specific first
# ("healthcare software" is a software company).
_KEYWORDS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (industry, re.compile(pattern))
    for industry, pattern in (
        ("Cybersecurity", r"\b(cyber|infosec|network security|computer security)"),
        ("Software", r"\b(software|saas|paas|dev ?tools|developer tools|cloud computing)\b"),
        ("IT Services", r"\b(information technology|it (services|consulting|solutions))\b"),
        ("Internet", r"\b(internet|online|web|marketplace)\b"),
        ("Hardware & Semiconductors", r"\b(semiconductor|hardware|electronic)"),
        ("Telecommunications", r"\b(telecom|wireless|mobile network)"),
        ("Banking", r"\bbank"),
        ("Insurance", r"\binsur"),
        ("Financial Services", r"\b(financ|invest|capital|venture|fintech|payment|asset man)"),
        ("Biotech & Pharma", r"\b(pharma|biotech|life science)"),
        ("Healthcare", r"\b(health|medical|hospital|clinic|dental|care)"),
        ("Marketing & Advertising", r"\b(marketing|advertis|public relations)"),
        ("Media & Entertainment", r"\b(media|entertain|publish|broadcast|film|music|gam(e|ing))"),
        ("Education", r"\b(educat|e ?learning|universit|school|academ|training)"),
        ("Retail & E-commerce", r"\b(retail|e ?commerce|consumer|apparel|fashion|food|beverage)"),
        ("Manufacturing", r"\b(manufactur|industrial|machinery|automotive|aerospace|chemical)"),
        ("Professional Services", r"\b(consult|legal|law\b|accounting|professional services)"),
        ("Staffing & Recruiting", r"\b(staffing|recruit|human resources)"),
        ("Real Estate & Construction", r"\b(real estate|construct|architect|building|propert)"),
        ("Energy & Utilities", r"\b(energy|oil|gas\b|utilit|renewable|solar|mining|power)"),
        (
            "Transportation & Logistics",
            r"\b(logistic|transport|shipping|freight|supply chain|airline|trucking)",
        ),
        ("Hospitality & Travel", r"\b(hospitality|travel|hotel|restaurant|touris|leisure)"),
        ("Government & Non-profit", r"\b(government|non ?profit|public sector|military|ngo)\b"),
        ("IT Services", r"\b(computer|technolog|tech)\b"),
    )
)

_PLACEHOLDERS = frozenset({"", "n a", "na", "none", "null", "unknown", "other", "nan", "0"})


def industry_of_text(text: str) -> str | None:
    """Canonical industry of one free-text value (one of INDUSTRIES); None when the value is a
    blank or a placeholder ("N/A", "unknown"), so that it scores as unknown."""
    key = normalise(text)
    if key in _PLACEHOLDERS:
        return None
    if key in _EXACT:
        return _EXACT[key]
    for industry, pattern in _KEYWORDS:
        if pattern.search(key):
            return industry
    return OTHER


def canonical_industry_name(name: str) -> str | None:
    """The canonical spelling of a name from INDUSTRIES, matched case-insensitively (for
    model keys); None if it is not one of them."""
    wanted = normalise(name)
    return next((i for i in INDUSTRIES if normalise(i) == wanted), None)


def industry_of(texts: pl.Series, aliases: dict[str, str] | None = None) -> pl.Series:
    """Canonical industry of every value in a column (NULL when missing). `aliases` maps the
    team's own raw values (normalised) to canonical industries and wins over the built-in
    vocabulary, so sales ops can fix a mapping in rex.yaml without code."""
    extra = {normalise(k): v for k, v in (aliases or {}).items()}

    def parse(text: str) -> str | None:
        return extra.get(normalise(text)) or industry_of_text(text)

    return map_unique(texts, parse).alias("industry")
