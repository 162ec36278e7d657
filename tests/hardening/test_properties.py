"""Property-based tests (hypothesis) for the normalisers and the source parsers.

Each property holds for *any* input, not just the examples we thought of: nothing raises (but
`UnreadableFileError` for a whole file), outputs have exactly the declared polars schema, every
input row ends as one output or one rejection, normalising a normalised value changes nothing,
and the vectorised fast paths agree with the library they stand in for. Example counts are kept
small so the whole file runs in well under 20 s; hypothesis' example database (`.hypothesis/`,
which git-ignores itself) replays a failure first on the next run.

CI draws the same examples on every run (a red CI must mean that a change broke something,
not that the dice found an old bug); `HYPOTHESIS_PROFILE=explore` draws new ones each run, to
hunt for inputs nobody thought of. A failure found that way becomes an `@example`.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path

import cleanco
import polars as pl
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from rex_pipeline import records
from rex_pipeline.config import Settings
from rex_pipeline.normalise import (
    emails,
    normalise_activities,
    normalise_companies,
    normalise_contacts,
    normalise_deals,
    normalise_tasks,
    phones,
)
from rex_pipeline.normalise.company_names import basename, company_keys, strip_legal_suffixes
from rex_pipeline.normalise.domains import registrable_domain, registrable_domains, website_domains
from rex_pipeline.normalise.linkedin import linkedin_urls
from rex_pipeline.normalise.money import MONEY_RESULT, parse_money
from rex_pipeline.normalise.names import fix_case, fix_name_case, split_full_names, split_name
from rex_pipeline.normalise.text import fold_key, repair_mojibake
from rex_pipeline.normalise.vocab import map_vocab
from rex_pipeline.schema import STAGES
from rex_pipeline.sources.csv import parse_csv_file
from rex_pipeline.sources.gmail import parse_gmail_file
from rex_pipeline.sources.instantly import parse_instantly_file

settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))
_QUIET = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
FAST = settings(max_examples=40, **_QUIET)
FEW = settings(max_examples=15, **_QUIET)
SETTINGS = Settings(org_id="prop-org")

# --- strategies --------------------------------------------------------------------------------

# Text the way exports break it: any Unicode (no surrogates: they cannot be UTF-8), control
# characters, quotes, delimiters, BOMs and the replacement character included.
any_text = st.text(
    st.characters(exclude_categories=["Cs"], include_characters='",;\t\n\r\ufeff\ufffd'),
    max_size=40,
)
_ASCII_LOCAL = "abcxyzABC019._+-'!#$%&*/=?^`{|}~"
_UNICODE = "äöüßéñøçÅ中文жΩ"
local_parts = st.text(st.sampled_from(_ASCII_LOCAL + _UNICODE + '"\\ @'), min_size=1, max_size=20)
labels = st.text(st.sampled_from("abcxyz019-" + "äöü中"), min_size=1, max_size=12)
tlds = st.sampled_from(["com", "de", "co.uk", "io", "test", "local", "xn--p1ai", "c", "123"])
domains = st.builds(lambda ls, tld: ".".join([*ls, tld]), st.lists(labels, max_size=3), tlds)
email_like = st.one_of(
    st.builds(lambda lp, d: f"{lp}@{d}", local_parts, domains),
    st.builds(lambda lp, d: f" Mailto:{lp}@{d.upper()} ", local_parts, domains),
    st.builds(lambda name, lp, d: f"{name} <{lp}@{d}>", labels, local_parts, domains),
    any_text,
)
phone_like = st.one_of(
    st.text(st.sampled_from("0123456789 +-().x/ext"), max_size=25),
    st.builds(
        lambda cc, body, ext: f"+{cc} {body}{ext}",
        st.integers(1, 999),
        st.text(st.sampled_from("0123456789 -"), min_size=4, max_size=14),
        st.sampled_from(["", " x12", " ext. 7"]),
    ),
    st.text(st.sampled_from("٠١٢٣٤٥٦٧٨٩１２３+ "), max_size=15),  # non-ASCII digits
    any_text,
)
website_like = st.one_of(
    st.builds(
        lambda scheme, host, path: f"{scheme}{host}{path}",
        st.sampled_from(["", "http://", "https://www.", "HTTPS://", "ftp://", "//"]),
        domains,
        st.sampled_from(["", "/", "/about?x=1", ":8080/", "#top", " trailing"]),
    ),
    any_text,
)
_NAME_WORDS = ["Ada", "LOVELACE", "grace", "van", "DE", "Dr.", "Jr", "McKay", "II", "José", "ZOË"]
name_like = st.one_of(
    st.lists(st.sampled_from(_NAME_WORDS), min_size=1, max_size=4).map(" ".join),
    st.builds(lambda a, b: f"{a}, {b}", st.sampled_from(_NAME_WORDS), st.sampled_from(_NAME_WORDS)),
    any_text,
)
_COMPANY_WORDS = ["Acme", "the", "Corp.", "Inc", "GmbH", "& Co.", "KG", "S.A.", "Ltd", "Société"]
company_like = st.one_of(
    st.lists(st.sampled_from(_COMPANY_WORDS), min_size=1, max_size=5).map(" ".join),
    any_text,
)
money_like = st.one_of(
    st.text(st.sampled_from("0123456789.,' -+$€£¥kKmMbnUSDEUR"), max_size=20),
    any_text,
)
optional = st.none() | any_text


def series(strategy: st.SearchStrategy[str], max_size: int = 12) -> st.SearchStrategy[pl.Series]:
    """A String column of values from `strategy`, NULLs and repeats included."""
    values = st.lists(st.none() | strategy, max_size=max_size)
    return values.map(lambda v: pl.Series("v", v + v[:2], dtype=pl.String()))


# --- emails ------------------------------------------------------------------------------------


@FAST
@given(series(email_like))
def test_validate_emails_schema_rows_and_one_outcome_per_value(values: pl.Series) -> None:
    result = emails.validate_emails(values)
    assert result.schema == pl.Schema(emails.EMAIL_RESULT)
    assert result.height == values.len()
    blanks = emails._prepare(values).is_null()  # NULL, blank (as polars trims) or "mailto:"
    for blank, (email, key, error) in zip(blanks, result.iter_rows(), strict=True):
        if blank:
            assert (email, key, error) == (None, None, None)
        else:  # a value is either valid (address and key) or invalid (the reason), never both
            assert (email is None) == (error is not None) == (key is None)


@FAST
@given(series(email_like))
def test_normalising_a_normalised_email_changes_nothing(values: pl.Series) -> None:
    first = emails.validate_emails(values).drop_nulls("email")
    again = emails.validate_emails(first["email"])
    assert again["email"].to_list() == first["email"].to_list()
    assert again["email_key"].to_list() == first["email_key"].to_list()
    assert emails.email_keys(first["email_key"]).to_list() == first["email_key"].to_list()


@FAST
@given(st.lists(st.builds(lambda lp, d: f"{lp}@{d}", local_parts, domains), max_size=15))
def test_email_fast_path_agrees_with_email_validator(values: list[str]) -> None:
    fast = emails._fast_path(pl.Series(values, dtype=pl.String()).unique())
    for value, normalised, _ in fast.iter_rows():
        assert emails.validate_email_value(value) == (normalised, None), value


# --- phones ------------------------------------------------------------------------------------


@FAST
@given(series(phone_like), st.sampled_from(["US", "GB", "DE", "IN"]))
@example(pl.Series("v", ["+4920100000000000"]), "US")  # valid to phonenumbers, 16 digits
def test_parse_phones_schema_rows_and_e164(values: pl.Series, region: str) -> None:
    result = phones.parse_phones(values, region)
    assert result.schema == pl.Schema(phones.PHONE_RESULT)
    assert result.height == values.len()
    e164 = result["phone"].drop_nulls()
    assert e164.str.contains(r"^\+[1-9]\d{1,14}$").all(), e164.to_list()
    # idempotence: an E.164 number reads back as itself, in any region
    assert phones.parse_phones(e164, "FR")["phone"].to_list() == e164.to_list()


@FAST
@given(series(phone_like, max_size=20), st.sampled_from(["US", "CA", "GB", "AU"]))
def test_phone_fast_path_agrees_with_phonenumbers(values: pl.Series, region: str) -> None:
    distinct = phones._prepare(values).drop_nulls().unique()
    for value, e164, extension in phones._fast_path(distinct, region).iter_rows():
        assert phones.parse_phone(value, region) == (e164, extension), value


# --- domains and LinkedIn ---------------------------------------------------------------------


@FAST
@given(series(website_like))
def test_registrable_domains_are_lower_case_idempotent_and_vectorised_alike(
    values: pl.Series,
) -> None:
    domains_ = registrable_domains(values)
    assert domains_.dtype == pl.String() and domains_.len() == values.len()
    expected = [None if v is None else registrable_domain(v) for v in values]
    assert domains_.to_list() == expected
    for domain in domains_.drop_nulls():
        assert domain == domain.lower() and " " not in domain
        assert registrable_domain(domain) == domain
    websites = website_domains(values)
    assert websites.len() == values.len()
    # a website domain is a registrable domain (or NULL: free-mail, platform, none)
    assert all(w is None or w == d for w, d in zip(websites, domains_, strict=True))


@FAST
@given(
    series(
        st.one_of(
            st.builds(
                lambda pre, kind, slug, tail: f"{pre}linkedin.com/{kind}/{slug}{tail}",
                st.sampled_from(["", "https://www.", "http://uk.", "m.", "HTTPS://WWW."]),
                st.sampled_from(["in", "company", "pub", "sales"]),
                st.text(st.sampled_from("abc-_%C3%A9é12"), max_size=15),
                st.sampled_from(["", "/", "?trk=x", "/details"]),
            ),
            any_text,
        )
    )
)
def test_linkedin_urls_are_canonical_and_idempotent(values: pl.Series) -> None:
    urls = linkedin_urls(values)
    assert urls.dtype == pl.String() and urls.len() == values.len()
    canonical = urls.drop_nulls()
    assert canonical.str.contains(r"^https://www\.linkedin\.com/(in|company)/[^/?#\s]+$").all()
    assert linkedin_urls(canonical).to_list() == canonical.to_list()


# --- names, companies, money, vocabularies, keys ---------------------------------------------


@FAST
@given(series(name_like))
def test_split_full_names_agrees_with_nameparser(values: pl.Series) -> None:
    parts = split_full_names(values)
    assert parts.schema == pl.Schema({"first_name": pl.String(), "last_name": pl.String()})
    assert parts.height == values.len()
    for value, row in zip(values, parts.iter_rows(), strict=True):
        cleaned = " ".join(value.split()) if value is not None else ""
        usable = any(c.isalpha() for c in cleaned) and "@" not in cleaned
        if usable and cleaned == value:  # whitespace handling aside, same as nameparser
            assert row == split_name(cleaned), value


@FAST
@given(series(name_like))
def test_fix_name_case_agrees_with_nameparser(values: pl.Series) -> None:
    fixed = fix_name_case(values)
    assert fixed.dtype == pl.String() and fixed.len() == values.len()
    for value, out in zip(values, fixed, strict=True):
        if value is None:
            assert out is None
        elif value in (value.upper(), value.lower()):
            assert out == fix_case(value), value
        else:
            assert out == value  # mixed case is kept as typed


@FAST
@given(series(company_like))
def test_company_keys_are_folded_and_the_fast_basename_is_cleanco(values: pl.Series) -> None:
    keys = company_keys(values)
    assert keys.dtype == pl.String() and keys.len() == values.len()
    # a key is already folded (not idempotent as a name: "&CO" keys "and co", whose "co" is a
    # legal form when read as a name)
    folded = keys.to_frame().select(fold_key(pl.col("v"))).to_series()
    assert folded.to_list() == keys.to_list()
    for value in values.drop_nulls():
        assert basename(value) == cleanco.basename(value), value
        strip_legal_suffixes(value)  # terminates


@FAST
@given(series(money_like), series(st.sampled_from(["USD", "eur", "", "XX", "JPY", "€"])))
def test_parse_money_schema_and_iso_currency(values: pl.Series, currencies: pl.Series) -> None:
    size = min(values.len(), currencies.len())
    result = parse_money(values.head(size), currencies.head(size))
    assert result.schema == pl.Schema(MONEY_RESULT)
    assert result.height == size
    assert result["currency"].str.contains(r"^[A-Z]{3}$").all()


@FAST
@given(series(any_text | st.sampled_from(["MQL", "Customer", "closed - converted", "ÉVÉNEMENT"])))
def test_vocabularies_map_into_the_contract_or_null(values: pl.Series) -> None:
    stages = map_vocab(values, "stage")
    assert stages.len() == values.len()
    assert set(stages.drop_nulls()) <= set(STAGES)


@FAST
@given(series(any_text))
@example(pl.Series("v", ["𝘈", "Ｒｅｘ", "ﬁnance"]))  # styled capitals and ligatures
def test_fold_key_is_idempotent_and_mojibake_repair_is_total(values: pl.Series) -> None:
    keys = values.to_frame().select(fold_key(pl.col("v"))).to_series()
    again = keys.to_frame().select(fold_key(pl.col("v"))).to_series()
    assert again.to_list() == keys.to_list()
    repaired = repair_mojibake(values)
    assert repaired.len() == values.len() and repaired.dtype == pl.String()


# --- whole normalise stages: one clean row or one rejection per raw row ------------------------

Stage = Callable[[pl.DataFrame, Settings], tuple[pl.DataFrame, pl.DataFrame]]
STAGE_CASES: list[tuple[Stage, Mapping[str, pl.DataType], Mapping[str, pl.DataType]]] = [
    (normalise_contacts, records.RAW_CONTACT, records.CLEAN_CONTACT),
    (normalise_companies, records.RAW_COMPANY, records.CLEAN_COMPANY),
    (normalise_activities, records.RAW_ACTIVITY, records.CLEAN_ACTIVITY),
    (normalise_deals, records.RAW_DEAL, records.CLEAN_DEAL),
    (normalise_tasks, records.RAW_TASK, records.CLEAN_TASK),
]
_FIELD_TEXT = {
    "email": email_like,
    "contact_email": email_like,
    "phone": phone_like,
    "domain": website_like,
    "company_domain": website_like,
    "full_name": name_like,
    "first_name": name_like,
    "last_name": name_like,
    "name": company_like,
    "company_name": company_like,
    "value": money_like,
}


def _raw_rows(schema: Mapping[str, pl.DataType]) -> st.SearchStrategy[pl.DataFrame]:
    """Raw staged frames whose text fields hold hostile values (lineage filled as parsers do)."""
    text_fields = [n for n, t in schema.items() if t == pl.String() and n not in records.LINEAGE]
    row = st.fixed_dictionaries(
        {n: st.none() | _FIELD_TEXT.get(n, any_text) for n in text_fields},
        optional={"other_emails": st.lists(email_like, max_size=3)}
        if "other_emails" in schema
        else {},
    )

    def frame(rows: list[dict[str, object]]) -> pl.DataFrame:
        lineage = [
            {
                "org_id": "prop-org",
                "source_system": "csv",
                "source_file": "p.csv",
                "source_row": i,
                "source_key": f"p.csv:{i}",
                "raw": json.dumps(r, default=str),
                **r,
            }
            for i, r in enumerate(rows, start=1)
        ]
        return records.from_rows(lineage, schema)

    return st.lists(row, max_size=8).map(frame)


@pytest.mark.parametrize(("stage", "raw_schema", "clean_schema"), STAGE_CASES)
def test_normalise_stage_keeps_or_rejects_every_row(
    stage: Stage, raw_schema: Mapping[str, pl.DataType], clean_schema: Mapping[str, pl.DataType]
) -> None:
    @FEW
    @given(_raw_rows(raw_schema))
    def check(raw: pl.DataFrame) -> None:
        clean, rejected = stage(raw, SETTINGS)
        assert clean.schema == pl.Schema(clean_schema)
        assert rejected.schema == pl.Schema(records.REJECTED)
        assert clean.height + rejected.height == raw.height
        kept = set(clean["source_row"]) | set(rejected["source_row"])
        assert kept == set(raw["source_row"])

    check()


# --- parsers ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One directory for the module (hypothesis reuses it across examples)."""
    return tmp_path_factory.mktemp("properties")


def _schemas_exact(parsed: records.ParsedFile) -> None:
    assert parsed.contacts.schema == pl.Schema(records.RAW_CONTACT)
    assert parsed.companies.schema == pl.Schema(records.RAW_COMPANY)
    assert parsed.activities.schema == pl.Schema(records.RAW_ACTIVITY)
    assert parsed.deals.schema == pl.Schema(records.RAW_DEAL)
    assert parsed.tasks.schema == pl.Schema(records.RAW_TASK)
    assert parsed.rejected.schema == pl.Schema(records.REJECTED)
    assert parsed.rejected["reason"].null_count() == 0


def _parse_or_unreadable(parse: Callable[[], records.ParsedFile]) -> records.ParsedFile | None:
    """The parsed file, or None when the parser reported the file unreadable; any other
    exception fails the test."""
    try:
        parsed = parse()
    except records.UnreadableFileError as exc:
        assert str(exc)  # the reason is never empty
        return None
    _schemas_exact(parsed)
    return parsed


@FAST
@given(data=st.binary(max_size=300) | any_text.map(lambda t: t.encode("utf-8")))
def test_csv_parser_on_arbitrary_bytes(scratch: Path, data: bytes) -> None:
    path = scratch / "fuzz.csv"
    path.write_bytes(b"Email,First Name,Company\n" + data)
    _parse_or_unreadable(lambda: parse_csv_file(path, "prop-org"))
    path.write_bytes(data)  # without a header we know
    _parse_or_unreadable(lambda: parse_csv_file(path, "prop-org"))


@FAST
@given(
    rows=st.lists(st.lists(any_text | email_like, min_size=0, max_size=6), min_size=1, max_size=8),
    delimiter=st.sampled_from([",", ";", "\t"]),
)
def test_csv_parser_stages_or_rejects_every_written_row(
    scratch: Path, rows: list[list[str]], delimiter: str
) -> None:
    """Rows written by a real CSV writer (quoting newlines, quotes, delimiters): each one ends
    staged or rejected, under its own row number."""
    assume(any(any(cell.strip() for cell in row) for row in rows))  # some content
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(["Email", "First Name", "Last Name", "Company"])
    writer.writerows([row or [""] for row in rows])
    path = scratch / "rows.csv"
    path.write_bytes(buffer.getvalue().encode("utf-8"))
    parsed = _parse_or_unreadable(lambda: parse_csv_file(path, "prop-org"))
    if parsed is None:  # only an undecodable text (e.g. mostly control characters) may be refused
        return
    numbers = sorted([*parsed.contacts["source_row"], *parsed.rejected["source_row"]])
    assert numbers == list(range(1, len(numbers) + 1))  # each record once, in order
    # blank rows at the very end are not records (parser docstring); every row with content is
    content = [i for i, row in enumerate(rows, 1) if any(c.isalnum() for cell in row for c in cell)]
    assert len(numbers) >= max(content, default=0)


_JSON_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=True, allow_infinity=True)
    | any_text
    | email_like
)
any_json = st.recursive(
    _JSON_LEAVES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4),
    max_leaves=12,
)
_INSTANTLY_KEYS = [
    "email", "first_name", "status", "lt_interest_status", "payload", "timestamp_created",
    "event_type", "lead_email", "timestamp", "ue_type", "from_address_email",
    "to_address_email_list", "eaccount", "body", "items", "id",
]  # fmt: skip
instantly_json = st.one_of(
    any_json,
    st.lists(st.dictionaries(st.sampled_from(_INSTANTLY_KEYS), any_json, max_size=6), max_size=5),
)
_HEADER_NAMES = ["From", "To", "Cc", "Subject", "Date", "Message-ID", "Delivered-To", "X"]
gmail_message = st.fixed_dictionaries(
    {},
    optional={
        "id": any_json,
        "threadId": any_json,
        "labelIds": any_json | st.lists(st.sampled_from(["INBOX", "SENT", "SPAM", "DRAFT"])),
        "internalDate": any_json | st.integers(-(10**16), 10**16).map(str),
        "raw": any_json,
        "payload": any_json
        | st.fixed_dictionaries(
            {
                "headers": st.lists(
                    st.fixed_dictionaries(
                        {"name": st.sampled_from(_HEADER_NAMES), "value": any_json | email_like}
                    ),
                    max_size=5,
                )
            },
            optional={"mimeType": any_json, "body": any_json, "parts": any_json},
        ),
    },
)
gmail_json = st.one_of(any_json, st.lists(gmail_message, max_size=4), gmail_message)


@FAST
@given(document=instantly_json, suffix=st.sampled_from([".json", ".jsonl"]))
def test_instantly_parser_on_arbitrary_json(scratch: Path, document: object, suffix: str) -> None:
    path = scratch / f"instantly{suffix}"
    text = json.dumps(document)
    if suffix == ".jsonl" and isinstance(document, list):
        text = "\n".join(json.dumps(item) for item in document)
    path.write_text(text, encoding="utf-8")
    parsed = _parse_or_unreadable(lambda: parse_instantly_file(path, "prop-org"))
    if parsed is not None:
        assert parsed.stats["rejected"] == parsed.rejected.height


@FAST
@given(document=gmail_json, suffix=st.sampled_from([".json", ".jsonl"]))
def test_gmail_parser_on_arbitrary_json(scratch: Path, document: object, suffix: str) -> None:
    path = scratch / f"gmail{suffix}"
    text = json.dumps(document)
    if suffix == ".jsonl" and isinstance(document, list):
        text = "\n".join(json.dumps(item) for item in document)
    path.write_text(text, encoding="utf-8")
    parsed = _parse_or_unreadable(lambda: parse_gmail_file(path, "prop-org", [], []))
    if parsed is not None:
        _messages_accounted_for(parsed)


def _messages_accounted_for(parsed: records.ParsedFile) -> None:
    """Every message read became an activity or a rejected row (a skip or a second copy is
    one, with its reason)."""
    stats = parsed.stats
    assert stats["messages_read"] == stats["activities"] + stats["rejected"]
    skipped = ("duplicates", "skipped_spam", "skipped_trash", "skipped_chat")
    assert sum(stats[k] for k in skipped) <= stats["rejected"]
    assert stats["activities"] == parsed.activities.height


_SEPARATOR = b"From 1780000000000000001@xxx Mon Mar 31 08:00:00 +0000 2025\n"
mbox_messages = st.lists(
    st.one_of(
        st.binary(max_size=200),
        st.lists(
            st.builds(
                lambda name, value: f"{name}: {value}".encode("utf-8", "surrogateescape"),
                st.sampled_from([*_HEADER_NAMES, "Content-Type", "X-Gmail-Labels"]),
                any_text | email_like | st.sampled_from(["multipart/mixed; boundary=b", "Spam"]),
            ),
            max_size=6,
        ).map(lambda lines: b"\n".join(lines) + b"\n\n--b\nbody\n"),
    ),
    min_size=1,
    max_size=4,
)


@FAST
@given(messages=mbox_messages, raw_bytes=st.binary(max_size=200))
def test_gmail_parser_on_arbitrary_mbox_bytes(
    scratch: Path, messages: list[bytes], raw_bytes: bytes
) -> None:
    path = scratch / "fuzz.mbox"
    path.write_bytes(b"".join(_SEPARATOR + m + b"\n" for m in messages))
    parsed = _parse_or_unreadable(lambda: parse_gmail_file(path, "prop-org", [], []))
    assert parsed is not None  # it starts with a separator: an mbox, whatever follows
    _messages_accounted_for(parsed)
    assert parsed.stats["messages_read"] == len(messages)
    path.write_bytes(raw_bytes)  # not even a separator line
    _parse_or_unreadable(lambda: parse_gmail_file(path, "prop-org", [], []))
