"""Job titles -> seniority and department.

Titles are free text ("VP Eng", "Co-founder & CEO", "Head of Growth", "Sr. Software Engineer")
and enrichment tools add their own codes (Apollo's `Seniority` column: c_suite, vp, director,
manager, senior, entry, founder, owner, partner, head, intern; its `Departments` column:
master_engineering_technical, master_sales …). Both go through the same ordered rules; the
first rule that matches wins, so more specific patterns come first.
"""

from __future__ import annotations

import re

import polars as pl

from rex_pipeline.score.text import map_unique, normalise

SENIORITIES: tuple[str, ...] = (
    "founder",
    "c_level",
    "vp",
    "head",
    "director",
    "manager",
    "individual_contributor",
)
SENIORITY_LABELS: dict[str, str] = {
    "founder": "Founder",
    "c_level": "C-level",
    "vp": "VP",
    "head": "Head-of",
    "director": "Director",
    "manager": "Manager",
    "individual_contributor": "Individual-contributor",
}

DEPARTMENTS: tuple[str, ...] = (
    "executive",
    "engineering",
    "data",
    "product",
    "design",
    "it",
    "sales",
    "marketing",
    "customer_success",
    "operations",
    "finance",
    "hr",
    "legal",
)
DEPARTMENT_LABELS: dict[str, str] = {
    "executive": "Executive",
    "engineering": "Engineering",
    "data": "Data",
    "product": "Product",
    "design": "Design",
    "it": "IT",
    "sales": "Sales",
    "marketing": "Marketing",
    "customer_success": "Customer-success",
    "operations": "Operations",
    "finance": "Finance",
    "hr": "HR",
    "legal": "Legal",
}

# Rewrites applied before the rules so that one spelling is matched everywhere.
_REWRITES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), r)
    for p, r in (
        (r"\bvice presidents?\b|\bv p\b", "vp"),
        (r"\bco founders?\b|\bco founding\b", "cofounder"),
        (r"\bsenior vp\b", "svp"),
    )
)


def _rules(*pairs: tuple[str, str]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple((name, re.compile(pattern)) for name, pattern in pairs)


_SENIORITY_RULES = _rules(
    # Assistants to executives and product owners carry senior words but are not senior.
    (
        "individual_contributor",
        r"\b(assistant|secretary) to\b|\bexecutive assistant\b|\bintern(ship)?\b"
        r"|\bproduct owner\b|\bstudent\b|\btrainee\b|\bworking student\b",
    ),
    (
        "founder",
        r"\bcofounder\b|\bfounder\b|\bfounding partner\b|\bowner\b|\bgr(u|ü|ue)nder(in)?\b"
        r"|\bfondat(eur|rice)\b|\bfundador(a)?\b",
    ),
    (
        "c_level",
        r"\bchief\b|\bc[a-z]o\b|\bciso\b|\bchro\b|\bc ?suite\b|\bc level\b|\bpresident\b"
        r"|\bmanaging director\b|\b(managing|general) partner\b|\bexecutive director\b"
        r"|\bchair(man|woman|person)?\b|\bboard member\b|\bgesch(a|ä|ae)ftsf(u|ü|ue)hrer(in)?\b"
        r"|\bpdg\b|\bdirect(eur|rice) g(e|é)n(e|é)ral(e)?\b",
    ),
    ("vp", r"\b(vp|svp|evp|avp|gvp|rvp)\b"),
    ("head", r"\bhead\b|\bleiter(in)?\b|\bresponsable\b"),
    ("director", r"\bdirect(or|ora|eur|rice)\b|\bdir\b|\bgeneral manager\b|\bgm\b"),
    (
        "manager",
        r"\bmanager\b|\bmgr\b|\b(team|tech|technical|engineering|group|squad) lead\b"
        r"|\bsupervisor\b|\bgerente\b|\bmanagerin\b",
    ),
    # "Partner" alone is a senior title in firms; "Partner Manager" was caught above.
    (
        "c_level",
        r"\bpartner\b(?! (account|marketing|success|sales|program|solutions|engineer"
        r"|development|relations|ecosystem|channel|operations|enablement))",
    ),
    (
        "individual_contributor",
        r"\b(engineer|developer|dev|programmer|analyst|specialist|associate|representative"
        r"|rep|consultant|designer|scientist|researcher|coordinator|assistant|accountant"
        r"|architect|administrator|admin|recruiter|writer|editor|sdr|bdr|ae|executive|officer"
        r"|staff|senior|sr|junior|jr|entry|member|technician|agent|advisor|adviser|strategist"
        r"|marketer|copywriter|producer|teacher|nurse|attorney|lawyer|counsel|paralegal"
        r"|contributor|generalist|operator|buyer|planner|auditor|controller|clerk|freelancer"
        r"|mts)\b",
    ),
)

_DEPARTMENT_RULES = _rules(
    (
        "hr",
        r"\b(human resources|hr|people|talent|recruit(er|ers|ing|ment)?|chro|hrbp|personnel"
        r"|employee experience)\b",
    ),
    (
        "operations",
        r"\b(rev ?ops|sales ?ops|marketing ?ops|biz ?ops"
        r"|(revenue|sales|marketing|business|go to market|gtm) operations)\b",
    ),
    ("design", r"\b(design|designer|ux|ui|user experience|user research|creative)\b"),
    (
        "customer_success",
        r"\b(customer (success|experience|care|service|support)|client (success|services)"
        r"|cs|cx|support|onboarding|implementation|account management)\b",
    ),
    (
        "marketing",
        r"\b(marketing|mktg|growth|demand gen(eration)?|brand|content|seo|sem|communications"
        r"|comms|pr|public relations|social media|cmo|events?|community|marketer)\b",
    ),
    (
        "sales",
        r"\b(sales|account executive|ae|sdr|bdr|business development|bizdev|bd|revenue|cro"
        r"|partnerships|commercial|account manager|vertrieb|ventes?|ventas|channel)\b",
    ),
    (
        "data",
        r"\b(data|analytics|machine learning|ml|ai|artificial intelligence"
        r"|business intelligence|bi|cdo)\b",
    ),
    ("product", r"\b(product|products|cpo|pm)\b"),
    (
        "it",
        r"\b(information technology|it|cio|ciso|security|infosec|sysadmin"
        r"|systems administrator|helpdesk|help desk|network)\b",
    ),
    (
        "engineering",
        r"\b(engineer|engineers|engineering|eng|engg|developer|dev|devops|sre|site reliability"
        r"|software|programmer|architect|cto|technical|technology|r and d"
        r"|research and development|qa|quality assurance|frontend|front end|backend|back end"
        r"|full ?stack|mobile|ios|android|platform|infrastructure|firmware|mts"
        r"|member of technical staff)\b",
    ),
    (
        "finance",
        r"\b(finance|financial|cfo|accounting|accountant|controller|treasury|fp and a|payroll"
        r"|tax|audit|auditor|investor relations|bookkeeper|bookkeeping)\b",
    ),
    ("legal", r"\b(legal|counsel|attorney|lawyer|clo|compliance|paralegal|privacy)\b"),
    ("operations", r"\b(operations|ops|coo|supply chain|logistics|procurement|facilities)\b"),
    (
        "executive",
        r"\b(ceo|cofounder|founder|owner|president|managing director|general manager"
        r"|chair(man|woman|person)?|board|c ?suite|c level|executive director|partner"
        r"|gesch(a|ä|ae)ftsf(u|ü|ue)hrer(in)?|gr(u|ü|ue)nder(in)?|pdg|entrepreneur)\b",
    ),
)


def _prepare(title: str) -> str:
    text = normalise(title)
    for pattern, replacement in _REWRITES:
        text = pattern.sub(replacement, text)
    return text


def _first_match(text: str, rules: tuple[tuple[str, re.Pattern[str]], ...]) -> str | None:
    for name, pattern in rules:
        if pattern.search(text):
            return name
    return None


def seniority_of_title(title: str) -> str | None:
    """Seniority level of one title (one of SENIORITIES), None when the title says nothing
    about it ("Marketing", "Growth")."""
    return _first_match(_prepare(title), _SENIORITY_RULES)


def department_of_title(title: str) -> str | None:
    """Department of one title (one of DEPARTMENTS), None when it names no function."""
    return _first_match(_prepare(title), _DEPARTMENT_RULES)


def seniority_of(titles: pl.Series) -> pl.Series:
    """Seniority of every title in a column (NULL when unknown)."""
    return map_unique(titles, seniority_of_title).alias("seniority")


def department_of(titles: pl.Series) -> pl.Series:
    """Department of every title in a column (NULL when unknown)."""
    return map_unique(titles, department_of_title).alias("department")


def title_features(titles: pl.Series) -> pl.DataFrame:
    """Seniority and department of every title (as seniority_of and department_of), with
    each distinct title normalised and parsed once for both."""
    values = titles.cast(pl.String).rename("title")
    distinct = values.drop_nulls().unique().to_list()
    prepared = [_prepare(t) for t in distinct]
    table = pl.DataFrame(
        {
            "title": distinct,
            "seniority": [_first_match(t, _SENIORITY_RULES) for t in prepared],
            "department": [_first_match(t, _DEPARTMENT_RULES) for t in prepared],
        },
        schema={"title": pl.String, "seniority": pl.String, "department": pl.String},
    )
    return (
        values.to_frame()
        .join(table, on="title", how="left", maintain_order="left")
        .select("seniority", "department")
    )
