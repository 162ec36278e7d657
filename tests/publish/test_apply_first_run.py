"""An org's first run writes every canonical row and staged record new: apply skips the work
only an update needs (looking up old rows, hashing both sides' content, deleting, copying the
staged records aside), and leaves what the general path would."""

from __future__ import annotations

import pytest

from rex_pipeline.publish import apply
from tests.conftest import Env
from tests.publish.test_apply_proportional import HUBSPOT, LATER, assert_lineage_mirrors_staged

pytestmark = pytest.mark.integration


def test_a_first_run_hashes_no_content_and_a_later_one_does(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    hashed: list[str] = []
    content_hash = apply._content_hash

    def spy(alias: str, table: str) -> str:
        hashed.append(table)
        return content_hash(alias, table)

    monkeypatch.setattr(apply, "_content_hash", spy)
    env.write("csv/hubspot-contacts-2023.csv", HUBSPOT)
    assert env.run().success
    assert hashed == []
    assert len(env.sql("SELECT id FROM contacts")) == 3
    assert env.sql("SELECT count(*) FROM contacts WHERE updated_at IS NULL") == [(0,)]
    assert_lineage_mirrors_staged(env)

    env.write("csv/hubspot-contacts-2024.csv", LATER)
    assert env.run().success
    assert {"contacts", "companies"} <= set(hashed)
    assert len(env.sql("SELECT id FROM contacts")) == 4
    assert_lineage_mirrors_staged(env)
