"""The contact stage end to end: RAW_CONTACT -> CLEAN_CONTACT + REJECTED."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import polars as pl
import pytest

from rex_pipeline import records
from rex_pipeline.config import Settings
from rex_pipeline.normalise import normalise_contacts
from rex_pipeline.normalise.contacts import NO_IDENTITY


def _raw(*rows: dict) -> pl.DataFrame:
    lineage = {"org_id": "acme-org", "source_system": "csv", "source_file": "hubspot.csv"}
    full = []
    for i, row in enumerate(rows, start=1):
        record = {**lineage, "source_row": i, "source_key": f"hubspot:{i}", **row}
        record.setdefault("raw", json.dumps(row, default=str))
        full.append(record)
    return records.from_rows(full, records.RAW_CONTACT)


def _run(*rows: dict, settings: Settings | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    raw = _raw(*rows)
    clean, rejected = normalise_contacts(raw, settings or Settings())
    assert clean.height + rejected.height == raw.height  # nothing lost
    assert clean.schema == pl.Schema(records.CLEAN_CONTACT)
    assert rejected.schema == pl.Schema(records.REJECTED)
    return clean, rejected


def test_hubspot_row_is_normalised() -> None:
    updated = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    clean, rejected = _run(
        {
            "email": " Ada.Lovelace+crm@Acme.CO.UK ",
            "first_name": "ADA",
            "last_name": "LOVELACE",
            "phone": "'+1 415-555-2671",
            "title": "CTO",
            "linkedin_url": "http://uk.linkedin.com/in/Ada-Lovelace/?trk=x",
            "stage": "marketingqualifiedlead",
            "source": "ORGANIC_SEARCH",
            "company_name": "Acme Corp.",
            "company_domain": "https://www.acme.co.uk/about",
            "tags": ["VIP", " vip ", "", "Newsletter"],
            "metadata": '{"hs_object_id": "51"}',
            "updated_at": updated,
        }
    )
    assert rejected.is_empty()
    row = clean.row(0, named=True)
    assert row["email"] == "Ada.Lovelace+crm@acme.co.uk"
    assert row["email_key"] == "ada.lovelace+crm@acme.co.uk"  # custom domain: tag kept
    assert row["email_domain"] == "acme.co.uk"
    assert (row["is_free_email"], row["is_disposable_email"]) == (False, False)
    assert (row["first_name"], row["last_name"]) == ("Ada", "Lovelace")
    assert row["phone"] == "+14155552671"
    assert row["linkedin_url"] == "https://www.linkedin.com/in/ada-lovelace"
    assert (row["stage"], row["source"]) == ("lead", "organic")
    assert (row["company_domain"], row["company_key"]) == ("acme.co.uk", "acme")
    assert row["company_name"] == "Acme Corp."  # display name as given
    assert row["tags"] == ["VIP", "Newsletter"]
    assert json.loads(row["metadata"]) == {"hs_object_id": "51"}
    assert row["updated_at"] == updated
    assert (row["org_id"], row["source_row"], row["source_key"]) == ("acme-org", 1, "hubspot:1")


def test_invalid_primary_email_is_rejected_with_the_validator_reason() -> None:
    clean, rejected = _run({"email": "ada@@acme.com", "first_name": "Ada", "company_name": "Acme"})
    assert clean.is_empty()
    row = rejected.row(0, named=True)
    assert row["reason"] == (
        "invalid email 'ada@@acme.com': The part after the @-sign contains invalid characters: '@'."
    )
    assert json.loads(row["raw"])["email"] == "ada@@acme.com"  # the parser's raw fields
    assert (row["org_id"], row["source_file"], row["source_row"]) == ("acme-org", "hubspot.csv", 1)


@pytest.mark.parametrize(
    "row",
    [
        {"full_name": "Grace Hopper"},  # a name alone could be anyone
        {"company_name": "Acme", "phone": "+1 415 555 2671"},  # no person
        {"first_name": "Ada", "phone": "12345"},  # the phone is not a number
        {"linkedin_url": "https://twitter.com/ada", "first_name": "Ada"},
        {},
    ],
)
def test_records_without_identity_are_rejected(row: dict) -> None:
    clean, rejected = _run(row)
    assert clean.is_empty()
    assert rejected["reason"].to_list() == [NO_IDENTITY]


@pytest.mark.parametrize(
    "row",
    [
        {"email": "ada@gmail.com"},
        {"linkedin_url": "linkedin.com/in/ada-lovelace/"},
        {"full_name": "Lovelace, Ada", "company_name": "Acme"},
        {"last_name": "Lovelace", "phone": "(415) 555-2671"},
        {"first_name": "Ada", "company_domain": "acme.com"},
    ],
)
def test_one_identity_is_enough(row: dict) -> None:
    clean, rejected = _run(row)
    assert rejected.is_empty() and clean.height == 1


def test_raw_json_is_built_when_the_parser_left_it_empty() -> None:
    raw = _raw({"full_name": "Grace Hopper", "raw": None})
    _, rejected = normalise_contacts(raw, Settings())
    assert json.loads(rejected["raw"].item())["full_name"] == "Grace Hopper"


def test_other_emails_are_validated_deduplicated_and_invalid_ones_kept_in_metadata() -> None:
    clean, _ = _run(
        {
            "email": "ada.lovelace@gmail.com",
            "other_emails": ["AdaLovelace@googlemail.com", "ada@acme.com", "ada@", "ada@acme.com"],
            "metadata": '{"note": "x"}',
        }
    )
    row = clean.row(0, named=True)
    assert row["other_emails"] == ["ada@acme.com"]  # the googlemail one is the primary again
    assert row["other_email_keys"] == ["ada@acme.com"]
    assert json.loads(row["metadata"]) == {"note": "x", "invalid_emails": ["ada@"]}


def test_first_valid_other_email_becomes_primary_when_none_is_given() -> None:
    clean, _ = _run({"other_emails": ["bad@", "ada@acme.com", "a.lovelace@acme.com"]})
    row = clean.row(0, named=True)
    assert (row["email"], row["other_emails"]) == ("ada@acme.com", ["a.lovelace@acme.com"])


def test_a_cell_with_several_addresses() -> None:
    clean, _ = _run({"email": "ada@acme.com; ada.lovelace@gmail.com"})
    row = clean.row(0, named=True)
    assert (row["email"], row["other_emails"]) == ("ada@acme.com", ["ada.lovelace@gmail.com"])


def test_company_domain_from_work_email_never_from_free_mail() -> None:
    clean, _ = _run(
        {"email": "ada@mail.acme.io", "company_name": "Acme"},
        {"email": "ada@gmail.com", "company_name": "Acme"},
        {"email": "ada@yopmail.com"},
        {"email": "ada@gmail.com", "company_domain": "www.acme.io"},
        {"email": "ada@acme.io", "company_domain": "https://www.linkedin.com/company/acme"},
    )
    assert clean["company_domain"].to_list() == ["acme.io", None, None, "acme.io", "acme.io"]
    assert clean["is_free_email"].to_list() == [False, True, True, True, False]
    assert clean["is_disposable_email"].to_list() == [False, False, True, False, False]
    # the LinkedIn page given as website is kept, the work email gave the domain
    assert json.loads(clean["metadata"][4]) == {
        "raw_company_domain": "https://www.linkedin.com/company/acme"
    }


def test_a_work_email_gives_the_domain_only_of_a_company_that_fits_it() -> None:
    """A LinkedIn connection's address is often an alumni or family domain, not the employer
    the row names: that domain is no company's. No name, or a fitting one, takes it."""
    clean, _ = _run(
        {"email": "alice@alumni.stanford.edu", "company_name": "Google"},
        {"email": "cleo@cruz.family", "company_name": "Stripe"},
        {"email": "ada@acme-robotics.co.uk", "company_name": "Acme Robotics Inc."},
        {"email": "ada@acmerobotics.io", "company_name": "Acme Robotcs"},  # a typo
        {"email": "tom@ibm.com", "company_name": "International Business Machines"},
        {"email": "pat@hp.com", "company_name": "Hewlett-Packard"},
        {"email": "ben@nimbuspayrollhq.com", "company_name": "Nimbus Payroll"},
        {"email": "dev@cruz.family"},
        {"email": "eve@stanford.edu", "company_name": "Globex", "company_domain": "globex.com"},
    )
    assert clean["company_domain"].to_list() == [
        None,
        None,
        "acme-robotics.co.uk",
        "acmerobotics.io",
        "ibm.com",
        "hp.com",
        "nimbuspayrollhq.com",
        "cruz.family",
        "globex.com",  # a website given wins
    ]
    assert clean["company_key"][:2].to_list() == ["google", "stripe"]


def test_an_invalid_phone_gives_way_to_a_valid_one_of_another_column() -> None:
    """The mapping takes the first phone column with a value; the others stay in metadata
    under their headers. A German mobile written nationally is no number in the US region:
    the business number beside it is used, and the invalid one is still noted."""
    clean, _ = _run(
        {
            "email": "juergen@baeckerei-mueller.de",
            "phone": "0171 2345678",
            "metadata": json.dumps({"Telefon geschäftlich": "+49 89 1234567", "Anrede": "Herr"}),
        },
        {
            "email": "dana@orbital.io",
            "phone": "'+1 212 000 0000",
            "metadata": json.dumps(
                {"Home Phone": "'+1 415-867-5309 x12", "Work Direct Phone": "x"}
            ),
        },
        {"email": "zoe@cafe.de", "phone": "0221 987654", "metadata": json.dumps({"Ort": "Köln"})},
    )
    assert clean["phone"].to_list() == ["+49891234567", "+14158675309", None]
    metadata = [json.loads(m) for m in clean["metadata"]]
    assert [m.get("invalid_phone") for m in metadata] == [
        "0171 2345678",
        "'+1 212 000 0000",
        "0221 987654",
    ]
    assert metadata[1]["phone_extension"] == "12"


def test_unmapped_values_are_kept_in_metadata() -> None:
    clean, _ = _run(
        {
            "email": "ada@acme.com",
            "stage": "Do Not Contact",
            "source": "Carrier pigeon",
            "phone": "not a phone",
            "linkedin_url": "https://twitter.com/ada",
            "company_domain": "gmail.com",
        }
    )
    row = clean.row(0, named=True)
    assert (row["stage"], row["source"], row["phone"], row["linkedin_url"]) == (
        None,
        "other",
        None,
        None,
    )
    assert json.loads(row["metadata"]) == {
        "raw_stage": "Do Not Contact",
        "raw_source": "Carrier pigeon",
        "invalid_phone": "not a phone",
        "invalid_linkedin_url": "https://twitter.com/ada",
        "raw_company_domain": "gmail.com",
    }


def test_names_from_full_name_only_when_first_and_last_are_missing() -> None:
    clean, _ = _run(
        {"email": "a@acme.com", "full_name": "Dr. Ada Lovelace PhD"},
        {"email": "b@acme.com", "full_name": "LOVELACE, ADA"},
        {"email": "c@acme.com", "full_name": "Ada Lovelace", "first_name": "Augusta"},
        {"email": "d@acme.com", "first_name": " Grace ", "last_name": "hopper"},
    )
    assert clean.select("first_name", "last_name").rows() == [
        ("Ada", "Lovelace"),
        ("Ada", "Lovelace"),
        ("Augusta", "Lovelace"),
        ("Grace", "Hopper"),
    ]
    assert clean["full_name"].to_list()[0] == "Dr. Ada Lovelace PhD"  # kept as given


def test_unicode_and_cp1252_names() -> None:
    outlook_row = b"Ren\xe9e;O\x92Brien;Soci\xe9t\xe9 G\xe9n\xe9rale S.A.".decode("cp1252")
    first, last, company = outlook_row.split(";")
    clean, _ = _run(
        {"email": "renee@sg.fr", "first_name": first, "last_name": last, "company_name": company},
        {"email": "jose@acme.es", "full_name": "JosÃ© MÃ¼ller"},  # UTF-8 read as cp1252
        {"email": "zoe@acme.de", "full_name": "ZOË SALDAÑA"},
    )
    assert clean.select("first_name", "last_name").rows() == [
        ("Renée", "O’Brien"),
        ("José", "Müller"),
        ("Zoë", "Saldaña"),
    ]
    assert clean["company_key"][0] == "societe generale"
    assert clean["full_name"][1] == "José Müller"


def test_org_id_falls_back_to_the_run_setting() -> None:
    raw = _raw({"email": "ada@acme.com"}).with_columns(pl.lit(None, pl.String).alias("org_id"))
    clean, _ = normalise_contacts(raw, Settings(org_id="northwind"))
    assert clean["org_id"].to_list() == ["northwind"]


def test_phone_region_comes_from_settings() -> None:
    clean, _ = _run(
        {"email": "ada@acme.co.uk", "phone": "020 7946 0958 ext 12"},
        settings=Settings(default_phone_region="GB"),
    )
    assert clean["phone"].to_list() == ["+442079460958"]
    assert json.loads(clean["metadata"][0]) == {"phone_extension": "12"}


def test_empty_input() -> None:
    clean, rejected = normalise_contacts(records.empty(records.RAW_CONTACT), Settings())
    assert clean.is_empty() and rejected.is_empty()
    assert clean.schema == pl.Schema(records.CLEAN_CONTACT)


def test_mixed_batch_counts_add_up() -> None:
    rows = [{"email": f"p{i}@acme.com"} for i in range(50)]
    rows += [{"email": f"p{i}@@acme.com"} for i in range(7)]
    rows += [{"title": "CEO"} for _ in range(3)]
    clean, rejected = _run(*rows)
    assert (clean.height, rejected.height) == (50, 10)
    assert sorted(rejected["source_row"].to_list()) == list(range(51, 61))
