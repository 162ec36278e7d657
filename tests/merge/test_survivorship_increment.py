"""An increment rewrites only the records it brings (and those a merge moves), yet the canonical
row still folds every record of the contact, and staging ends up as a full rewrite would leave
it."""

from __future__ import annotations

import duckdb
import pytest

from rex_pipeline.warehouse import work_db_path
from tests.conftest import Env
from tests.integration.test_pipeline import APOLLO, HUBSPOT, assert_ok

pytestmark = pytest.mark.integration


def test_an_increment_writes_its_own_records_and_folds_the_old_ones(env: Env) -> None:
    from rex_pipeline.definitions import defs

    env.write("csv/hubspot.csv", HUBSPOT)
    assert_ok(env.run())
    env.write("csv/apollo.csv", APOLLO)  # Ada again (matched by email), and Linus
    by_name = {a.key.to_user_string(): a for a in defs.assets or []}
    upstream = [by_name[n] for n in ("csv_exports", "normalised_records", "resolved_identities")]
    assert_ok(env.run(assets=[*upstream, by_name["canonical_records"]]))

    con = duckdb.connect(str(work_db_path(env.db)))
    try:
        written = con.execute(
            "SELECT source_file, count(*) FROM batch_contact_records GROUP BY ALL"
        ).fetchall()
        # Ada's HubSpot record stays where it is: only the Apollo file's two are written
        assert written == [("apollo.csv", 2)]
        ada = con.execute(
            "SELECT owner_id, title FROM batch_canonical_contacts "
            "WHERE email = 'ada.lovelace@acme-robotics.com'"
        ).fetchall()
        # still folded from both records: the owner only HubSpot names, the title only Apollo
        assert ada == [("maria@northwind-labs.io", "VP Engineering")]
    finally:
        con.close()

    assert_ok(env.run(assets=[by_name["warehouse"]]))
    staged = env.sql("SELECT source_file, count(*) FROM contact_sources GROUP BY ALL ORDER BY 1")
    assert staged == [("apollo.csv", 2), ("hubspot.csv", 3)]
    con = duckdb.connect(str(work_db_path(env.db)), read_only=True)
    try:
        rows = con.execute(
            "SELECT source_file, count(*), count(DISTINCT record_id) FROM stg_contacts "
            "GROUP BY ALL ORDER BY 1"
        ).fetchall()
    finally:
        con.close()
    assert rows == [("apollo.csv", 2, 2), ("hubspot.csv", 3, 3)]
