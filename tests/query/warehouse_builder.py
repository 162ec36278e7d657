"""Builds published-shape warehouses for the query tests and the benchmark.

Tables come from rex_pipeline.schema (the same DDL the publish step runs), so a test warehouse
can't drift from the real one. `insert_rows` is for small hand-written fixtures; the synthetic
builder generates a realistic warehouse of any size entirely in DuckDB SQL (TypeIDs included:
UUIDv7 from the record's creation time, Crockford base32), so a million contacts take seconds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from rex_pipeline.schema import CANONICAL_TABLES, TABLES_BY_NAME

_TYPE_TO_POLARS: dict[str, pl.DataType] = {
    "VARCHAR": pl.String(),
    "JSON": pl.String(),
    "INTEGER": pl.Int32(),
    "BIGINT": pl.Int64(),
    "DOUBLE": pl.Float64(),
    "BOOLEAN": pl.Boolean(),
    "TIMESTAMPTZ": pl.Datetime("us", "UTC"),
    "VARCHAR[]": pl.List(pl.String),
}


def create_warehouse(path: Path) -> None:
    """An empty warehouse with every table of the contract."""
    with duckdb.connect(str(path)) as conn:
        for table in CANONICAL_TABLES:
            conn.execute(table.create_sql())


def insert_rows(path: Path, table: str, rows: Iterable[Mapping[str, Any]]) -> None:
    """Append rows (dicts keyed by column; missing columns are NULL) to one table."""
    spec = TABLES_BY_NAME[table]
    schema = {c.name: _TYPE_TO_POLARS[c.type.removesuffix(" NOT NULL")] for c in spec.columns}
    frame = pl.DataFrame(
        [{name: row.get(name) for name in schema} for row in rows], schema=schema, orient="row"
    )
    with duckdb.connect(str(path)) as conn:
        conn.register("new_rows", frame)
        conn.execute(f'INSERT INTO "{table}" BY NAME SELECT * FROM new_rows')


# --- synthetic warehouse ------------------------------------------------------------------------

_MACROS = """
CREATE OR REPLACE TEMP MACRO crockford(u) AS array_to_string(list_transform(range(26),
    lambda k: substr('0123456789abcdefghjkmnpqrstvwxyz',
        (((u >> (5 * (25 - k))::UTINYINT) & 31::UHUGEINT)::INTEGER) + 1, 1)), '');
CREATE OR REPLACE TEMP MACRO typeid_of(prefix, ts, seed) AS prefix || '_' || crockford(
    (epoch_ms(ts)::UHUGEINT << 80) | (7::UHUGEINT << 76)
    | ((hash(seed, 'a') & 4095)::UHUGEINT << 64) | (2::UHUGEINT << 62)
    | (hash(seed, 'b') & 4611686018427387903)::UHUGEINT);
CREATE OR REPLACE TEMP MACRO pick(options, seed) AS
    options[(hash(seed) % len(options))::INTEGER + 1];
CREATE OR REPLACE TEMP MACRO pct(seed) AS (hash(seed) % 100)::INTEGER;
"""

FIRST_NAMES = [
    "Ada", "Grace", "Alan", "Linus", "Margaret", "Katherine", "Tim", "Barbara", "Dennis", "Ken",
    "Frances", "John", "Radia", "Vint", "Hedy", "Donald", "Edsger", "Sophie", "Guido", "Anita",
    "Mary", "Shafi", "Jean", "Sally", "Carl", "Lucía", "Jürgen", "Siobhán", "Chidi", "Mei",
    "Priya", "Oluwaseun", "Hiroshi", "Ingrid", "Mateo", "Zoë", "Aarav", "Fatima", "Liam", "Noor",
]  # fmt: skip
LAST_NAMES = [
    "Lovelace", "Hopper", "Turing", "Torvalds", "Hamilton", "Johnson", "Berners-Lee", "Liskov",
    "Ritchie", "Thompson", "Allen", "McCarthy", "Perlman", "Cerf", "Lamarr", "Knuth", "Dijkstra",
    "Wilson", "van Rossum", "Borg", "Kenyon", "Goldwasser", "Sammet", "Floyd", "Sagan", "García",
    "Schmidhuber", "O'Brien", "Okafor", "Zhang", "Patel", "Adeyemi", "Tanaka", "Larsen", "Rossi",
]  # fmt: skip
COMPANY_WORDS = [
    "Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark", "Wayne", "Wonka",
    "Tyrell", "Cyberdyne", "Soylent", "Aperture", "Massive", "Pied Piper", "Gringotts",
]  # fmt: skip
COMPANY_KINDS = [
    "Labs", "Systems", "Analytics", "Health", "Logistics", "Capital", "Robotics", "Foods",
    "Energy", "Media", "Software", "Bank",
]  # fmt: skip
INDUSTRIES = [
    "Software", "Financial Services", "Healthcare", "Manufacturing", "Retail", "Logistics",
    "Education", "Media", "Energy", "Biotech",
]  # fmt: skip
OWNERS = [f"{n}@northwind-labs.io" for n in ("ana", "ben", "chloe", "dev", "eli", "fay", "gus")]
TAGS = ["newsletter", "webinar-2024", "enterprise", "trial", "conference", "vip", "churn-risk"]
SUBJECTS = [
    "Intro call", "Re: Pricing question", "Following up on our demo", "Quick question",
    "Re: Contract redlines", "Invitation: Quarterly review", "Your trial ends soon",
]  # fmt: skip
SYLLABLES = [
    "ka", "lo", "mi", "ran", "del", "son", "berg", "ov", "ski", "ton", "ver", "ash", "ell", "ni",
    "mar", "tin", "ez", "ard", "ow", "ley", "qu", "ber", "na", "ri", "sel", "dah", "go", "wen",
    "yu", "zo",
]  # fmt: skip
VERTICALS = ["fintech", "healthtech", "devtools", "e-commerce", "logistics", "govtech"]
CITIES = ["Berlin", "London", "New York", "San Francisco", "Lagos", "Tokyo", "São Paulo"]


def _sql_list(values: list[str]) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def build_synthetic_warehouse(
    path: Path,
    n_contacts: int,
    org_id: str = "default",
    other_org_contacts: int = 0,
    shuffle: bool = False,
) -> dict[str, int]:
    """A realistic warehouse: n_contacts contacts in `org_id` (plus some in "other-org") with
    companies (1 per 20 contacts), 2 activities, 0.1 deals and 0.2 tasks per contact, secondary
    emails, stage changes, merges, rejected records and saved views. Deterministic. Contacts,
    companies and activities are stored newest first (the lists' default order, so a page's
    top-N skips whole row groups by their min/max); `shuffle` stores them in random order
    instead, the worst case. Returns row counts."""
    create_warehouse(path)
    with duckdb.connect(str(path)) as conn:
        conn.execute("SET enable_progress_bar = false")
        conn.execute(_MACROS)
        _generate_org(conn, org_id, n_contacts, "main", shuffle)
        if other_org_contacts:
            _generate_org(conn, "other-org", other_org_contacts, "other", shuffle)
        _static_rows(conn, org_id)
        return {
            t.name: conn.execute(f'SELECT count(*) FROM "{t.name}"').fetchone()[0]  # type: ignore[index]
            for t in CANONICAL_TABLES
        }


def _generate_org(
    conn: duckdb.DuckDBPyConnection, org: str, n: int, seed: str, shuffle: bool
) -> None:
    n_companies = max(1, n // 20)
    lists = {
        "first": _sql_list(FIRST_NAMES),
        "last": _sql_list(LAST_NAMES),
        "words": _sql_list(COMPANY_WORDS),
        "kinds": _sql_list(COMPANY_KINDS),
        "industries": _sql_list(INDUSTRIES),
        "owners": _sql_list(OWNERS),
        "tags": _sql_list(TAGS),
        "subjects": _sql_list(SUBJECTS),
        "verticals": _sql_list(VERTICALS),
        "cities": _sql_list(CITIES),
        "syllables": _sql_list(SYLLABLES),
        "order": "hash($seed, 'order', i)" if shuffle else "created_at DESC",
        "activity_order": "hash($seed, 'order', j)" if shuffle else "occurred DESC",
    }
    params = {"org": org, "seed": seed, "n": n, "nc": n_companies}
    for statement in _GENERATE.split(";\n"):
        if statement.strip():
            sql = statement.format(**lists)
            used = {k: v for k, v in params.items() if re.search(rf"\${k}\b", sql)}
            conn.execute(sql, used)


_GENERATE = """
CREATE OR REPLACE TEMP TABLE gen_companies AS
SELECT i,
       TIMESTAMPTZ '2019-01-01 00:00:00+00'
         + to_seconds((hash($seed, 'co', i) % 189216000)::BIGINT) AS created_at,
       pick({words}, hash($seed, 'w', i)) || ' ' || pick({kinds}, hash($seed, 'k', i)) AS base_name
FROM range($nc) r(i);
INSERT INTO companies BY NAME
SELECT typeid_of('comp', created_at, hash($seed, 'co', i)) AS id, $org AS org_id,
       base_name || CASE WHEN i >= 192 THEN ' ' || i ELSE '' END AS name,
       lower(replace(base_name, ' ', '')) || CASE WHEN i >= 192 THEN i::VARCHAR ELSE '' END
         || '.com' AS domain,
       pick({industries}, hash($seed, 'ind', i)) AS industry,
       pick(['1-10', '11-50', '51-200', '201-500', '501-1000', '1001-5000'], hash($seed, 'sz', i))
         AS size,
       'Makes ' || lower(pick({kinds}, hash($seed, 'k', i))) || ' for ' || lower(
         pick({industries}, hash($seed, 'ind', i))) AS description,
       json_object('linkedin_company_id', (hash($seed, 'li', i) % 9000000)::BIGINT) AS metadata,
       created_at, created_at + to_seconds((hash($seed, 'cu', i) % 8640000)::BIGINT) AS updated_at
FROM gen_companies ORDER BY {order};
CREATE OR REPLACE TEMP TABLE company_ids AS
SELECT row_number() OVER (ORDER BY id) - 1 AS k, id, domain FROM companies WHERE org_id = $org;
CREATE OR REPLACE TEMP TABLE gen_contacts AS
SELECT i,
       TIMESTAMPTZ '2019-01-01 00:00:00+00'
         + to_seconds((hash($seed, 'ct', i) % 189216000)::BIGINT) AS created_at,
       pick({first}, hash($seed, 'f', i)) AS first_name,
       CASE WHEN pct(hash($seed, 'lsyn', i)) < 50 THEN pick({last}, hash($seed, 'l', i))
            ELSE upper(pick({syllables}, hash($seed, 's1', i))[1])
                 || pick({syllables}, hash($seed, 's1', i))[2:]
                 || pick({syllables}, hash($seed, 's2', i))
                 || pick({syllables}, hash($seed, 's3', i))
       END AS last_name,
       CASE WHEN pct(hash($seed, 'hasco', i)) < 85 THEN (hash($seed, 'co', i) % $nc)::BIGINT END
         AS company_k,
       pct(hash($seed, 'stage', i)) AS stage_roll
FROM range($n) r(i);
INSERT INTO contacts BY NAME
SELECT typeid_of('cont', g.created_at, hash($seed, 'ct', i)) AS id, $org AS org_id,
       CASE WHEN pct(hash($seed, 'noemail', i)) < 3 THEN NULL
            ELSE lower(replace(replace(g.first_name || '.' || g.last_name, ' ', ''), '''', ''))
                 || i || '@'
                 || coalesce(CASE WHEN pct(hash($seed, 'free', i)) >= 30 THEN c.domain END,
                             'gmail.com') END AS email,
       g.first_name, g.last_name,
       CASE WHEN pct(hash($seed, 'ph', i)) < 60
            THEN '+1415' || lpad((hash($seed, 'ph', i) % 10000000)::VARCHAR, 7, '0') END AS phone,
       pick(['VP Sales', 'Head of Growth', 'CTO', 'Software Engineer', 'Account Executive',
             'Founder & CEO', 'Marketing Manager', NULL], hash($seed, 'ti', i)) AS title,
       'https://www.linkedin.com/in/' || lower(replace(g.first_name || '-' || g.last_name, ' ',
         '-')) || '-' || i AS linkedin_url,
       CASE WHEN g.stage_roll < 50 THEN 'lead' WHEN g.stage_roll < 75 THEN 'prospect'
            WHEN g.stage_roll < 92 THEN 'customer' ELSE 'churned' END AS stage,
       pick(['organic', 'referral', 'paid', 'social', 'email', 'event', 'outbound', 'other'],
            hash($seed, 'src', i)) AS source,
       pick(['hubspot-export.csv', 'apollo Q3 list', 'webinar: data quality', NULL],
            hash($seed, 'sd', i)) AS source_detail,
       c.id AS company_id,
       CASE WHEN pct(hash($seed, 'own', i)) < 90 THEN pick({owners}, hash($seed, 'own', i)) END
         AS owner_id,
       CASE WHEN pct(hash($seed, 'icp', i)) < 90 THEN pct(hash($seed, 'icps', i)) END AS icp_score,
       CASE WHEN pct(hash($seed, 'icp', i)) < 90
            THEN pick(['title matches buyer persona', 'industry fits ICP',
                       'company size in target band', 'free-mail address'], hash($seed, 'icr', i))
       END AS icp_score_reason,
       CASE WHEN pct(hash($seed, 'icp', i)) < 90
            THEN g.created_at + to_seconds((hash($seed, 'isa', i) % 2592000)::BIGINT) END
         AS icp_scored_at,
       list_filter({tags}, lambda t: hash($seed, t, i) % 6 = 0) AS tags,
       json_object('industry_vertical', pick({verticals}, hash($seed, 'v', i)),
                   'city', pick({cities}, hash($seed, 'city', i)),
                   'lead_score', (hash($seed, 'ls', i) % 1000)::INTEGER,
                   'hs_lead_status', pick(['NEW', 'OPEN', 'IN_PROGRESS', 'CONNECTED',
                                           'UNQUALIFIED'], hash($seed, 'hs', i))) AS metadata,
       g.created_at,
       g.created_at + to_seconds((hash($seed, 'up', i) % 25920000)::BIGINT) AS updated_at
FROM gen_contacts g LEFT JOIN company_ids c ON c.k = g.company_k
ORDER BY {order};
CREATE OR REPLACE TEMP TABLE contact_keys AS
SELECT row_number() OVER (ORDER BY id) - 1 AS k, id, email, company_id, owner_id, stage,
       created_at FROM contacts WHERE org_id = $org;
INSERT INTO contact_emails BY NAME
SELECT id AS contact_id, $org AS org_id, email, true AS is_primary
FROM contact_keys WHERE email IS NOT NULL
UNION ALL
SELECT id, $org, 'personal.' || k || '@outlook.com', false
FROM contact_keys WHERE pct(hash($seed, 'second', k)) < 20;
INSERT INTO contact_sources BY NAME
SELECT $org AS org_id, id AS contact_id, 'csv' AS source_system,
       'hubspot-contacts.csv' AS source_file, k + 1 AS source_row, 'hubspot:' || k AS source_key,
       email, 'new' AS match_rule, 1.0 AS match_score
FROM contact_keys;
INSERT INTO activities BY NAME
SELECT typeid_of('act', occurred, hash($seed, 'act', j)) AS id, $org AS org_id, kind AS type,
       CASE WHEN kind = 'email' THEN pick(['reply', 'sent', 'open', 'bounce', NULL],
                                         hash($seed, 'sub', j)) END AS subtype,
       'completed' AS status, pick({subjects}, hash($seed, 'subj', j)) AS subject,
       'Hi ' || split_part(c.email, '.', 1) || ', thanks for your time today.' AS body,
       c.id AS contact_id, c.company_id, NULL AS deal_id, c.owner_id, occurred AS occurred_at,
       CASE WHEN kind IN ('call', 'meeting') THEN (hash($seed, 'dur', j) % 3600)::INTEGER END
         AS duration,
       CASE WHEN kind = 'email' THEN pick(['inbound', 'outbound'], hash($seed, 'dir', j))
            ELSE 'na' END AS direction,
       CASE WHEN kind = 'email' THEN pick(['gmail', 'instantly'], hash($seed, 'src', j))
            ELSE 'csv' END AS source,
       md5(concat($seed, 'ext', j)) || '@mail.gmail.com' AS external_id,
       json_object('thread_id', md5(concat($seed, 'thr', j // 3))) AS metadata,
       occurred AS created_at, occurred AS updated_at
FROM (
  SELECT j, (hash($seed, 'ac', j) % $n)::BIGINT AS k,
         pick(['email', 'email', 'email', 'email', 'call', 'meeting', 'note', 'task'],
              hash($seed, 'kind', j)) AS kind
  FROM range($n * 2) r(j)
) a JOIN (
  SELECT *, created_at AS contact_created_at FROM contact_keys
) c USING (k)
CROSS JOIN LATERAL (
  SELECT c.contact_created_at + to_seconds((hash($seed, 'at', a.j) % 31536000)::BIGINT) AS occurred
)
ORDER BY {activity_order};
INSERT INTO deals BY NAME
SELECT typeid_of('deal', created_at, hash($seed, 'deal', j)) AS id, $org AS org_id,
       'Deal ' || j || ' – ' || coalesce(split_part(email, '@', 2), 'direct') AS name,
       id AS contact_id, company_id, 'default' AS pipeline_id,
       pick(['qualification', 'proposal', 'negotiation', 'closed'], hash($seed, 'dst', j))
         AS stage_id,
       ((hash($seed, 'val', j) % 5000) * 1000)::BIGINT AS value, 'USD' AS currency,
       pick(['open', 'open', 'won', 'lost'], hash($seed, 'dstat', j)) AS status, created_at,
       created_at + to_seconds((hash($seed, 'dup', j) % 7776000)::BIGINT) AS updated_at
FROM (SELECT j, (hash($seed, 'dc', j) % $n)::BIGINT AS k FROM range($n // 10) r(j))
JOIN contact_keys USING (k);
INSERT INTO tasks BY NAME
SELECT typeid_of('task', created_at, hash($seed, 'task', j)) AS id, $org AS org_id,
       pick(['Send proposal', 'Book follow-up call', 'Share case study', 'Check in after trial'],
            hash($seed, 'tt', j)) AS title,
       id AS contact_id, pick(['low', 'medium', 'high'], hash($seed, 'pri', j)) AS priority,
       pick(['pending', 'completed'], hash($seed, 'tst', j)) AS status,
       created_at + to_seconds((hash($seed, 'due', j) % 2592000)::BIGINT) AS due_at,
       created_at, created_at AS updated_at
FROM (SELECT j, (hash($seed, 'tc', j) % $n)::BIGINT AS k FROM range($n // 5) r(j))
JOIN contact_keys USING (k);
INSERT INTO stage_changes BY NAME
SELECT $org AS org_id, id AS contact_id, NULL AS from_stage, 'lead' AS to_stage,
       created_at AS changed_at FROM contact_keys
UNION ALL
SELECT $org, id, 'lead', stage, created_at + INTERVAL 30 DAY FROM contact_keys
WHERE stage <> 'lead';
INSERT INTO contact_merges BY NAME
SELECT $org AS org_id, id AS winner_id,
       typeid_of('cont', created_at, hash($seed, 'loser', k)) AS loser_id, 'email' AS rule,
       1.0 AS score, created_at + INTERVAL 1 DAY AS merged_at
FROM contact_keys WHERE pct(hash($seed, 'merged', k)) = 0;
INSERT INTO rejected_records BY NAME
SELECT $org AS org_id, 'csv' AS source_system, 'apollo-contacts.csv' AS source_file,
       j + 2 AS source_row, json_object('Email', 'not-an-email-' || j) AS raw,
       pick(['no usable email, phone or LinkedIn URL', 'email is not valid',
             'duplicate row in the same file'], hash($seed, 'rej', j)) AS reason
FROM range(greatest($n // 1000, 3)) r(j)
"""


def _static_rows(conn: duckdb.DuckDBPyConnection, org: str) -> None:
    views = [
        ("hot-prospects", "Prospects with a strong ICP fit",
         '{"query": {"groups": [{"conditions": [{"field": "stage", "op": "eq", '
         '"value": "prospect"}, {"field": "icp_score", "op": "gte", "value": 80}]}]}}'),
        ("enterprise-or-vip", "Tagged enterprise, or VIPs in fintech",
         '{"query": {"groups": [{"conditions": [{"field": "tags", "op": "eq", '
         '"value": "enterprise"}]}, {"conditions": [{"field": "tags", "op": "eq", '
         '"value": "vip"}, {"field": "custom.industry_vertical", "op": "eq", '
         '"value": "fintech"}]}]}}'),
    ]  # fmt: skip
    conn.executemany(
        "INSERT INTO saved_views VALUES (?, ?, ?, ?)", [(org, *view) for view in views]
    )
