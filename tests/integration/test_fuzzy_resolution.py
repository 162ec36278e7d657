"""Fuzzy resolution inside the whole graph: a new record joins an existing contact by
evidence, overrides are honoured, and borderline pairs go to review."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest

from rex_pipeline.cli import main
from rex_pipeline.config import ResolutionSettings
from rex_pipeline.query import Warehouse
from rex_pipeline.resolve import fuzzy_stage
from rex_pipeline.resolve.fuzzy import CONTACT_PROFILE, build_contact_index, load_contact_index
from rex_pipeline.resolve.fuzzy.company_index import read_company_index
from rex_pipeline.resolve.fuzzy.index import INDEX_FORMAT
from rex_pipeline.resolve.fuzzy.profiles import COMPANY_PROFILE, conform, frame_of
from tests.conftest import Env, config_naming
from tests.integration.test_pipeline import assert_ok

pytestmark = pytest.mark.integration

CRM = """\
"Record ID","First Name","Last Name","Email","Phone Number","Job Title","Company Name","Create Date"
"201","Katherine","O'Brien","katherine.obrien@acme-robotics.com","+1 415 555 0123","VP Engineering","Acme Robotics","2023-03-01 09:00"
"202","Jonathan","Reyes","jon.reyes@globex.com","+1 312 555 0190","Head of Sales","Globex","2023-03-02 09:00"
"""
# the same Katherine under a personal address and a nickname, same mobile, same employer
LINKEDIN_EXPORT = """\
First Name,Last Name,Email,Phone,Company,Title
Kate,O'Brien,kobrien83@gmail.com,(415) 555-0123,Acme Robotics Inc.,VP Eng
"""


def _config(env: Env, overrides: str) -> Path:
    (env.root / "overrides.yaml").write_text(overrides, encoding="utf-8")
    return config_naming(env.root / "overrides.yaml")


def test_nickname_and_personal_address_join_the_existing_contact(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REX_CONFIG", str(_config(env, "must_merge: []\nnever_merge: []\n")))
    env.write("csv/crm.csv", CRM)
    assert_ok(env.run())
    kate = env.sql("SELECT id FROM contacts WHERE email = 'katherine.obrien@acme-robotics.com'")[0][
        0
    ]
    env.write("csv/people.csv", LINKEDIN_EXPORT)
    result = env.run()
    assert_ok(result)
    assert env.sql("SELECT count(*) FROM contacts")[0][0] == 2
    rule, score = env.sql(
        "SELECT match_rule, match_score FROM contact_sources WHERE email = 'kobrien83@gmail.com'"
    )[0]
    assert rule == "fuzzy" and score >= 0.8
    emails = {
        r[0] for r in env.sql("SELECT email FROM contact_emails WHERE contact_id = ?", [kate])
    }
    assert emails == {"katherine.obrien@acme-robotics.com", "kobrien83@gmail.com"}
    meta = result.asset_materializations_for_node("resolved_identities")[0].metadata
    assert meta["fuzzy_merges"].value == 1


def test_never_merge_override_keeps_them_apart(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    overrides = "never_merge:\n  - [Katherine.OBrien@acme-robotics.com, kobrien83@gmail.com]\n"
    monkeypatch.setenv("REX_CONFIG", str(_config(env, overrides)))
    env.write("csv/crm.csv", CRM)
    env.write("csv/people.csv", LINKEDIN_EXPORT)
    assert_ok(env.run())
    assert env.sql("SELECT count(*) FROM contacts")[0][0] == 3
    assert env.sql("SELECT count(*) FROM possible_duplicates") == [(0,)]  # ruled apart


#: thresholds that put the borderline pair below into review
BORDERLINE = {"merge_threshold": 0.999, "review_threshold": 0.3}


def _sync_borderline_pair(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REX_CONFIG", str(_config(env, "")))
    env.write("csv/crm.csv", CRM)
    # same name and company, but nothing else in common: a namesake or the same person?
    env.write(
        "csv/other.csv",
        "First Name,Last Name,Email,Company\nKatherine,O'Brien,kob@protonmail.com,Acme Robotics\n",
    )
    assert_ok(env.run(BORDERLINE))


def test_borderline_pair_goes_to_review_not_merge(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    _sync_borderline_pair(env, monkeypatch)
    assert env.sql("SELECT count(*) FROM contacts")[0][0] == 3
    rows = env.sql("SELECT entity, score, reasons FROM possible_duplicates")
    assert len(rows) == 1 and rows[0][0] == "contact" and 0.3 <= rows[0][1] < 0.999
    assert "first_name" in rows[0][2] or "name" in rows[0][2]


def test_review_queue_lists_the_pair_and_explain_gives_it_the_sync_s_score_and_evidence(
    env: Env, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _sync_borderline_pair(env, monkeypatch)
    [(id_a, id_b, score)] = env.sql("SELECT id_a, id_b, score FROM possible_duplicates")
    with Warehouse(env.db, org_id="acme-org") as wh:
        [queued] = wh.review_queue()["data"]
        answer = wh.explain_contacts(id_a, id_b, ResolutionSettings(**BORDERLINE))
    assert (queued["id_a"], queued["id_b"], queued["score"]) == (id_a, id_b, score)
    assert {queued["email_a"], queued["email_b"]} == {
        "katherine.obrien@acme-robotics.com",
        "kob@protonmail.com",
    }
    assert queued["name_a"] == queued["name_b"] == "Katherine O'Brien"
    assert answer["decision"] == "review"
    assert answer["score"] == pytest.approx(score, abs=1e-9)
    evidence = answer["evidence"]
    assert (evidence["first_name"]["level"], evidence["last_name"]["level"]) == ("exact", "exact")
    assert evidence["email"]["level"] != "same local part"
    assert answer["blocking"]["compared"] is True
    # a pair's match weight is the prior and its fields' weights (a small warehouse: no scale)
    assert answer["prior"] == {"bits": -12.0, "population_bits": 0.0}
    fields = sum(field["weight"] for field in evidence.values())
    assert answer["match_weight"] == pytest.approx(answer["prior"]["bits"] + fields)
    # the CLI reads rex.yaml's thresholds (0.8 / 0.5): the same evidence, judged by those
    monkeypatch.setenv("REX_ORG_ID", "acme-org")
    assert main(["contacts", "explain", id_a, id_b]) == 0
    out = capsys.readouterr().out
    assert f"{id_a}  vs  {id_b}" in out
    assert f"(score {score:.4f}; merge at 0.8, review at 0.5)" in out
    assert "first_name  exact" in out and "blocking  compared: " in out
    assert "prior     -12.0 bits before any field\n" in out


def test_explain_shows_a_merge_grade_pair_that_an_override_keeps_apart(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    overrides = "never_merge:\n  - [Katherine.OBrien@acme-robotics.com, kobrien83@gmail.com]\n"
    monkeypatch.setenv("REX_CONFIG", str(_config(env, overrides)))
    env.write("csv/crm.csv", CRM)
    env.write("csv/people.csv", LINKEDIN_EXPORT)
    assert_ok(env.run())
    [(kate,)] = env.sql("SELECT id FROM contacts WHERE email LIKE 'katherine%'")
    [(kobrien,)] = env.sql("SELECT id FROM contacts WHERE email = 'kobrien83@gmail.com'")
    [(jon,)] = env.sql("SELECT id FROM contacts WHERE email = 'jon.reyes@globex.com'")
    with Warehouse(env.db, org_id="acme-org") as wh:
        kept_apart = wh.explain_contacts(kate, kobrien)
        strangers = wh.explain_contacts(kate, jon)
    assert kept_apart["decision"] == "merge" and kept_apart["blocking"]["compared"]
    assert kept_apart["evidence"]["first_name"]["level"] == "nickname"
    assert kept_apart["evidence"]["phone"]["level"] == "same number"
    assert strangers["decision"] == "no match"
    assert strangers["blocking"] == {"compared": False, "shared_blocks": []}


CRM_COMPANIES = """\
"Record ID","First Name","Last Name","Email","Company Name","Create Date"
"301","Priya","Natarajan","priya.natarajan84@gmail.com","Blue Harbor Analytics","2023-03-01 09:00"
"302","Lena","Vogel","lena.vogel@acme.com","Acme","2023-03-01 10:00"
"""
# a typo'd name with a legal form for the same domain-less company, and a namesake of Acme
# under another domain (a different company)
APOLLO_COMPANIES = """\
First Name,Last Name,Email,Company,Created At
Tomasz,Wren,t.wren.data@outlook.com,Blue Harbour Analytics Ltd,{created}
Jonas,Keller,jonas.keller@acme.de,Acme,{created}
"""


def _company_of(env: Env, email: str) -> str:
    return env.sql(
        "SELECT c.id FROM contacts p JOIN companies c ON c.id = p.company_id WHERE p.email = ?",
        [email],
    )[0][0]


def test_similar_company_names_merge_but_other_domains_stay_apart(
    env: Env, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REX_CONFIG", str(_config(env, "")))
    env.write("csv/crm.csv", CRM_COMPANIES)
    assert_ok(env.run())
    harbor = _company_of(env, "priya.natarajan84@gmail.com")
    env.write("csv/apollo.csv", APOLLO_COMPANIES.format(created="2024-05-01"))
    result = env.run()
    assert_ok(result)
    assert env.sql("SELECT count(*) FROM contacts")[0][0] == 4
    # the newcomer joins the existing company: it was minted in this batch, no merge row
    assert _company_of(env, "t.wren.data@outlook.com") == harbor
    assert env.sql("SELECT name FROM companies WHERE id = ?", [harbor]) == [
        ("Blue Harbor Analytics",)
    ]
    assert env.sql("SELECT count(*) FROM company_merges WHERE rule = 'fuzzy'") == [(0,)]
    # same name, different domains: never merged on name alone, a review item instead
    acme_com = _company_of(env, "lena.vogel@acme.com")
    acme_de = _company_of(env, "jonas.keller@acme.de")
    assert acme_com != acme_de
    assert sorted(r[0] for r in env.sql("SELECT domain FROM companies WHERE name = 'Acme'")) == [
        "acme.com",
        "acme.de",
    ]
    rows = env.sql(
        "SELECT id_a, id_b, reasons, score FROM possible_duplicates WHERE entity = 'company'"
    )
    assert len(rows) == 1 and {rows[0][0], rows[0][1]} == {acme_com, acme_de}
    assert "different domains" in rows[0][2]
    meta = result.asset_materializations_for_node("resolved_identities")[0].metadata
    assert meta["company_fuzzy_merges"].value == 1
    # the company profiles the sync saved explain the pair with the score it stored
    with Warehouse(env.db, org_id="acme-org") as wh:
        answer = wh.explain_companies(acme_de, acme_com)
    assert (answer["decision"], answer["conflict"]) == ("review", "different domains")
    assert answer["score"] == pytest.approx(rows[0][3], abs=1e-9)
    assert rows[0][2] == f"{answer['reasons']}; conflict: different domains"
    assert answer["blocking"]["compared"] is True
    monkeypatch.setenv("REX_ORG_ID", "acme-org")
    assert main(["companies", "explain", acme_com, harbor]) == 0
    out = capsys.readouterr().out
    assert "decision  no match" in out and "different names" in out
    assert "blocking  never compared: no block key in common" in out


def test_an_older_newcomer_joins_the_existing_company_which_keeps_its_id(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its source says the newcomer is older; the warehouse already gave the company an id,
    and an id once given never changes (only two existing companies merging retires one).
    The oldest record still wins the fields (`oldest` survivorship)."""
    monkeypatch.setenv("REX_CONFIG", str(_config(env, "")))
    env.write("csv/crm.csv", CRM_COMPANIES)
    assert_ok(env.run())
    harbor = _company_of(env, "priya.natarajan84@gmail.com")
    env.write("csv/apollo.csv", APOLLO_COMPANIES.format(created="2019-01-15"))
    assert_ok(env.run())
    assert _company_of(env, "t.wren.data@outlook.com") == harbor
    assert _company_of(env, "priya.natarajan84@gmail.com") == harbor
    assert env.sql("SELECT count(*) FROM company_merges") == [(0,)]  # no id retired
    assert env.sql("SELECT name FROM companies WHERE name LIKE 'Blue Harbo%'") == [
        ("Blue Harbour Analytics Ltd",)
    ]


def test_company_must_merge_override_by_domain(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REX_CONFIG", str(_config(env, "must_merge:\n  - [Acme.com, acme.de]\n")))
    env.write("csv/crm.csv", CRM_COMPANIES)
    env.write("csv/apollo.csv", APOLLO_COMPANIES.format(created="2024-05-01"))
    assert_ok(env.run())
    acme = _company_of(env, "lena.vogel@acme.com")
    assert _company_of(env, "jonas.keller@acme.de") == acme
    assert env.sql("SELECT count(*) FROM companies WHERE name = 'Acme'") == [(1,)]
    assert env.sql("SELECT count(*) FROM possible_duplicates WHERE entity = 'company'") == [(0,)]


# Blue Harbor known by its domain (Priya's work address): an older, domain-less "Blue Harbour
# Analytics Ltd" arrives and wins the fuzzy merge, so the winner's profile takes the domain
# only once the two are one
HARBOR_WITH_DOMAIN = CRM_COMPANIES.replace("priya.natarajan84@gmail.com", "priya@blueharbor.io")
# a new company, and a new record of an existing one
MORE_COMPANIES = """\
First Name,Last Name,Email,Company,Created At
Nadia,Okafor,nadia@fjordlabs.io,Fjord Labs,2024-06-01
Max,Braun,max.braun@acme.com,Acme,2024-06-01
"""


def _spy_on_company_nodes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """Each sync's company profiles as it got them (and how many it read), beside every
    company profile read from the staged records at the same moment."""
    seen: list[tuple[Any, ...]] = []
    real = fuzzy_stage.company_nodes

    def company_nodes(con: Any, settings: Any, now: Any) -> tuple[pl.DataFrame, int]:
        profiles, read = real(con, settings, now)
        everything = fuzzy_stage.company_profiles(con, settings, now)
        seen.append((profiles, read, conform(everything, COMPANY_PROFILE)))
        return profiles, read

    monkeypatch.setattr(fuzzy_stage, "company_nodes", company_nodes)
    return seen


def _sync_merged_harbor(env: Env, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("REX_CONFIG", str(_config(env, "")))
    env.write("csv/crm.csv", HARBOR_WITH_DOMAIN)
    assert_ok(env.run())
    env.write("csv/apollo.csv", APOLLO_COMPANIES.format(created="2019-01-15"))
    assert_ok(env.run())
    winner = _company_of(env, "t.wren.data@outlook.com")
    assert _company_of(env, "priya@blueharbor.io") == winner
    return winner


def test_a_sync_reads_again_only_the_companies_its_batch_touches(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    winner = _sync_merged_harbor(env, monkeypatch)
    # the sync saved the merged winner as it linked it (its own name yet), marked stale
    saved = read_company_index(env.root / ".rex.fuzzy-index")
    assert saved is not None and saved.stale.to_list() == [winner]
    linked = saved.profiles.filter(pl.col("node_id") == winner)
    assert linked["name"].to_list() == ["Blue Harbor Analytics"]
    seen = _spy_on_company_nodes(monkeypatch)
    env.write("csv/more.csv", MORE_COMPANIES)
    result = env.run()
    assert_ok(result)
    [(profiles, read, everything)] = seen
    # read again: Fjord Labs, Acme (a new record) and the stale winner; acme.de comes saved
    assert read == 3 and profiles.height == everything.height == 4
    assert profiles.sort("node_id").equals(everything.sort("node_id"))
    harbor = profiles.filter(pl.col("node_id") == winner).row(0, named=True)
    assert (harbor["domain"], harbor["name"]) == ("blueharbor.io", "Blue Harbour Analytics Ltd")
    meta = result.asset_materializations_for_node("resolved_identities")[0].metadata
    assert (meta["company_profiles_read"].value, meta["company_fuzzy_nodes"].value) == (3, 4)
    saved = read_company_index(env.root / ".rex.fuzzy-index")
    assert saved is not None and saved.stale.is_empty()


def test_a_decision_only_sync_links_companies_from_the_save(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    winner = _sync_merged_harbor(env, monkeypatch)
    seen = _spy_on_company_nodes(monkeypatch)
    meta = _decide(env, monkeypatch, "must_merge:\n  - [acme.com, acme.de]\n")
    # nothing staged: only the last sync's stale winner is read again, and the decision holds
    [(profiles, read, everything)] = seen
    assert (read, meta["company_profiles_read"].value) == (1, 1)
    assert profiles.sort("node_id").equals(everything.sort("node_id"))
    acme = _company_of(env, "lena.vogel@acme.com")
    assert _company_of(env, "jonas.keller@acme.de") == acme
    # its winner is saved stale, under the staged companies' unchanged stamp: the next sync
    # starts from the save and reads the merged Acme again
    saved = read_company_index(env.root / ".rex.fuzzy-index")
    assert saved is not None and saved.stale.to_list() == [acme]
    env.write("csv/more.csv", MORE_COMPANIES)
    assert_ok(env.run())
    [_, (profiles, read, everything)] = seen
    assert read == 2 and profiles.height == 3  # Fjord Labs and Acme; the winner stays saved
    assert profiles.sort("node_id").equals(everything.sort("node_id"))
    assert winner in profiles["node_id"].to_list()


def test_a_re_read_file_s_companies_are_read_again(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A changed file replaces what was staged from it: the companies it named are profiled
    again from the records that remain, and one it no longer names leaves the profiles."""
    _sync_merged_harbor(env, monkeypatch)
    env.write("csv/more.csv", MORE_COMPANIES)
    assert_ok(env.run())
    seen = _spy_on_company_nodes(monkeypatch)
    # Fjord Labs' only record is gone and Max's Acme row now names a new domain-less company
    env.write(
        "csv/more.csv",
        "First Name,Last Name,Email,Company,Created At\n"
        "Max,Braun,max.braun@gmail.com,Braun Consulting,2024-06-01\n",
    )
    assert_ok(env.run())
    [(profiles, read, everything)] = seen
    assert profiles.sort("node_id").equals(everything.sort("node_id"))
    names = set(profiles["name"].to_list())
    assert "Fjord Labs" not in names and "Braun Consulting" in names
    # read again: Braun Consulting (new) and acme.com (Max's old row was the file's); Fjord
    # Labs had no other record and is gone; acme.de and the harbor come from the save
    assert read == 2 and profiles.height == 4


def test_without_a_current_company_save_a_sync_reads_every_company(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    _sync_merged_harbor(env, monkeypatch)
    (env.root / ".rex.fuzzy-index" / "companies.parquet").unlink()
    seen = _spy_on_company_nodes(monkeypatch)
    env.write("csv/more.csv", MORE_COMPANIES)
    assert_ok(env.run())
    [(profiles, read, everything)] = seen
    assert read == profiles.height == 4
    assert profiles.sort("node_id").equals(everything.sort("node_id"))


def test_contact_index_is_refreshed_between_runs(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REX_CONFIG", str(_config(env, "")))
    env.write("csv/first.csv", "First Name,Last Name,Email\nMarta,Lindqvist,marta@fjord.se\n")
    assert_ok(env.run())  # the index starts empty
    env.write("csv/crm.csv", CRM)
    assert_ok(env.run())  # Katherine arrives after the index was built
    env.write("csv/people.csv", LINKEDIN_EXPORT)
    result = env.run()
    assert_ok(result)
    assert (env.root / ".rex.fuzzy-index" / "stamp.json").exists()
    assert env.sql("SELECT count(*) FROM contacts")[0][0] == 3
    assert env.sql(
        "SELECT match_rule FROM contact_sources WHERE email = 'kobrien83@gmail.com'"
    ) == [("fuzzy",)]


def test_a_stale_index_only_costs_candidates(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REX_CONFIG", str(_config(env, "")))
    env.write("csv/crm.csv", CRM)
    assert_ok(env.run())
    # an index that names a contact the warehouse no longer has, with Katherine's details,
    # stamped as current: its pairs must not merge anything into the ghost
    ghost = frame_of(
        [
            {
                "node_id": "cont_ghost",
                "first_name": "Katherine",
                "last_name": "O'Brien",
                "email_keys": ["katherine.obrien@acme-robotics.com"],
                "email_domains": ["acme-robotics.com"],
                "phones": ["+14155550123"],
                "company_key": "acme robotics",
            }
        ],
        CONTACT_PROFILE,
    )
    folder = env.root / ".rex.fuzzy-index"
    build_contact_index(ghost).save(folder)
    with duckdb.connect(str(env.root / ".rex.work.duckdb"), read_only=True) as con:
        org, stamp = con.execute(
            "SELECT org_id, max(loaded_at)::VARCHAR FROM stg_contacts GROUP BY org_id"
        ).fetchall()[0]
    current = {"org": org, "loaded_at": stamp, "format": INDEX_FORMAT}
    (folder / "stamp.json").write_text(json.dumps(current))
    env.write("csv/people.csv", LINKEDIN_EXPORT)
    assert_ok(env.run())
    assert env.sql("SELECT count(*) FROM contacts")[0][0] == 3  # Katherine was not a candidate
    assert env.sql("SELECT count(*) FROM contacts WHERE id = 'cont_ghost'") == [(0,)]
    assert env.sql(
        "SELECT count(*) FROM possible_duplicates WHERE 'cont_ghost' IN (id_a, id_b)"
    ) == [(0,)]
    assert env.sql("SELECT count(*) FROM contact_merges") == [(0,)]


def test_a_run_leaves_the_index_current_with_its_own_contacts(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REX_CONFIG", str(_config(env, "")))
    env.write("csv/crm.csv", CRM)
    assert_ok(env.run())
    folder = env.root / ".rex.fuzzy-index"
    with duckdb.connect(str(env.root / ".rex.work.duckdb"), read_only=True) as con:
        org, stamp = con.execute(
            "SELECT org_id, max(loaded_at)::VARCHAR FROM stg_contacts GROUP BY org_id"
        ).fetchall()[0]
    # the next run finds it current (no rebuild), and it already holds every contact
    assert json.loads((folder / "stamp.json").read_text()) == {
        "org": org,
        "loaded_at": stamp,
        "format": INDEX_FORMAT,
    }
    indexed = set(load_contact_index(folder).features.nodes["node_id"].to_list())
    assert indexed == {row[0] for row in env.sql("SELECT id FROM contacts")}
    env.write("csv/people.csv", LINKEDIN_EXPORT)
    assert_ok(env.run())
    assert len(list(folder.glob("part-*-nodes.parquet"))) in (1, 2)  # a delta, or compacted
    indexed = set(load_contact_index(folder).features.nodes["node_id"].to_list())
    assert {row[0] for row in env.sql("SELECT id FROM contacts")} <= indexed


def _decide(env: Env, monkeypatch: pytest.MonkeyPatch, overrides: str) -> Any:
    """Record analysts' decisions and sync again with nothing new in the inbox."""
    monkeypatch.setenv("REX_CONFIG", str(_config(env, overrides)))
    result = env.run(BORDERLINE)
    assert_ok(result)
    return result.asset_materializations_for_node("resolved_identities")[0].metadata


def _decision_states(capsys: pytest.CaptureFixture[str]) -> list[str]:
    """The status column of `rex overrides list --format csv`."""
    capsys.readouterr()
    assert main(["overrides", "list", "--format", "csv"]) == 0
    return [row["status"] for row in csv.DictReader(io.StringIO(capsys.readouterr().out))]


def test_a_decision_applies_at_the_next_sync_with_nothing_new_in_the_inbox(
    env: Env, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _sync_borderline_pair(env, monkeypatch)  # REX_CONFIG names an empty overrides file
    [(a, b)] = env.sql("SELECT id_a, id_b FROM possible_duplicates")
    [winner] = [i for (i,) in env.sql("SELECT id FROM contacts ORDER BY created_at, id")[:1]]
    # the analyst decides from a shell, then the next sync runs with nothing new in the inbox
    assert main(["overrides", "merge", a, b, "--note", "same person, new mailbox"]) == 0
    assert _decision_states(capsys) == ["pending: the next sync merges them"]
    result = env.run(BORDERLINE)
    assert_ok(result)
    assert _decision_states(capsys) == ["applied: one entity"]
    meta = result.asset_materializations_for_node("resolved_identities")[0].metadata
    assert meta["overrides_changed"].value is True
    assert env.sql("SELECT count(*) FROM contacts")[0][0] == 2
    [(kept, gone, rule)] = env.sql("SELECT winner_id, loser_id, rule FROM contact_merges")
    assert {kept, gone} == {a, b} and rule == "must_merge" and kept == winner
    assert env.sql("SELECT count(*) FROM possible_duplicates") == [(0,)]
    emails = {
        e for (e,) in env.sql("SELECT email FROM contact_emails WHERE contact_id = ?", [kept])
    }
    assert emails == {"katherine.obrien@acme-robotics.com", "kob@protonmail.com"}
    # the same decision, written another way by hand: nothing to apply again
    meta = _decide(env, monkeypatch, f"# decided 2024-05-02\nmust_merge: [[{b}, {a}]]\n")
    assert meta["overrides_changed"].value is False
    assert env.sql("SELECT count(*) FROM contact_merges") == [(1,)]


def test_a_decision_applies_in_an_org_without_companies(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    # personal addresses and no company: the org has contacts but not one company record
    monkeypatch.setenv("REX_CONFIG", str(_config(env, "")))
    env.write(
        "csv/people.csv",
        "First Name,Last Name,Email\n"
        "Marta,Lindqvist,marta.lindqvist@gmail.com\n"
        "M.,Lindqvist,mlindqvist77@yahoo.com\n",
    )
    assert_ok(env.run())
    assert env.sql("SELECT count(*) FROM companies") == [(0,)]
    assert env.sql("SELECT count(*) FROM contacts") == [(2,)]
    meta = _decide(
        env, monkeypatch, "must_merge:\n  - [marta.lindqvist@gmail.com, mlindqvist77@yahoo.com]\n"
    )
    assert meta["overrides_changed"].value is True
    assert meta["company_profiles_read"].value == 0
    assert env.sql("SELECT count(*) FROM contacts") == [(1,)]


def test_a_pair_ruled_apart_leaves_the_review_queue_at_the_next_sync(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    _sync_borderline_pair(env, monkeypatch)
    decided = (
        "never_merge:\n  - [kob@protonmail.com, Katherine.OBrien@acme-robotics.com]\n"
        # people no export has mentioned yet: kept for later, nothing to do now
        "must_merge:\n  - [ghost@nowhere.example, ghost.two@nowhere.example]\n"
    )
    meta = _decide(env, monkeypatch, decided)
    assert meta["overrides_changed"].value is True
    assert env.sql("SELECT count(*) FROM possible_duplicates") == [(0,)]
    assert env.sql("SELECT count(*) FROM contacts")[0][0] == 3
    assert env.sql("SELECT count(*) FROM contact_merges") == [(0,)]


def test_companies_ruled_apart_by_domain_leave_the_review_queue(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REX_CONFIG", str(_config(env, "")))
    env.write("csv/crm.csv", CRM_COMPANIES)
    env.write("csv/apollo.csv", APOLLO_COMPANIES.format(created="2024-05-01"))
    assert_ok(env.run())
    queued = "SELECT count(*) FROM possible_duplicates WHERE entity = 'company'"
    assert env.sql(queued) == [(1,)]
    _decide(env, monkeypatch, "never_merge:\n  - {a: ACME.com, b: acme.de, note: two firms}\n")
    assert env.sql(queued) == [(0,)]
    assert env.sql("SELECT count(*) FROM companies WHERE name = 'Acme'") == [(2,)]


def test_a_broken_overrides_file_stops_the_sync_before_anything_changes(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    _sync_borderline_pair(env, monkeypatch)
    queued = env.sql("SELECT id_a, id_b FROM possible_duplicates")
    # a half-edited file: syncing without the analysts' decisions could merge what they ruled
    # apart, so the sync stops at resolution and says which file to mend
    monkeypatch.setenv("REX_CONFIG", str(_config(env, "never_merge:\n  - [kob@protonmail.com\n")))
    result = env.run(BORDERLINE)
    assert not result.success
    [failure] = result.get_step_failure_events()
    assert failure.step_key == "resolved_identities"
    error = failure.event_specific_data.error  # type: ignore[union-attr]
    assert "overrides.yaml: not valid YAML" in error.to_string()
    assert env.sql("SELECT id_a, id_b FROM possible_duplicates") == queued
    # mended: the next sync applies it
    _decide(
        env,
        monkeypatch,
        "never_merge:\n  - [kob@protonmail.com, katherine.obrien@acme-robotics.com]\n",
    )
    assert env.sql("SELECT count(*) FROM possible_duplicates") == [(0,)]
