"""A small, consistent warehouse built without the parsers: the work database (manifest, staged
records, canonical tables) written with SQL, then published with the real `warehouse.publish`.

Org `acme` loaded four files: hubspot-contacts.csv (3 contacts read, 1 row rejected, plus a
company derived from a contact), companies.csv (1 company), inbox.mbox (1 email) and
pipeline.csv (1 deal, 1 task). Every link resolves and every record is accounted for.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from rex_pipeline import warehouse
from rex_pipeline.ids import new_ids

LOADED_AT = datetime(2024, 5, 1, 6, 0, tzinfo=UTC)
AT = f"TIMESTAMPTZ '{LOADED_AT.isoformat()}'"


@dataclass
class Ids:
    ada: str
    grace: str
    linus: str
    acme: str
    globex: str
    email: str
    deal: str
    task: str


class Warehouse:
    """The work database and the published file of one test."""

    def __init__(self, root: Path, ids: Ids) -> None:
        self.published = root / "rex.duckdb"
        self.work = warehouse.work_db_path(self.published)
        self.ids = ids

    @classmethod
    def build(cls, root: Path) -> Warehouse:
        ada, grace, linus = new_ids("contact", 3)
        acme, globex = new_ids("company", 2)
        ids = Ids(
            ada, grace, linus, acme, globex,
            new_ids("activity", 1)[0], new_ids("deal", 1)[0], new_ids("task", 1)[0],
        )  # fmt: skip
        built = cls(root, ids)
        with warehouse.connect_work(built.published) as con:
            built._fill(con)
            warehouse.publish(con, built.published)
        return built

    def copy_to(self, root: Path) -> Warehouse:
        """The same warehouse in another folder (building one takes a second; copying doesn't)."""
        copy = Warehouse(root, self.ids)
        shutil.copyfile(self.published, copy.published)
        shutil.copyfile(self.work, copy.work)
        return copy

    def _fill(self, con: duckdb.DuckDBPyConnection) -> None:
        i = self.ids
        con.execute(
            f"""
            INSERT INTO companies (id, org_id, name, domain, created_at, updated_at) VALUES
              ('{i.acme}', 'acme', 'Acme Robotics', 'acme-robotics.com', {AT}, {AT}),
              ('{i.globex}', 'acme', 'Globex', 'globex.com', {AT}, {AT});
            INSERT INTO contacts (id, org_id, email, first_name, last_name, stage, source,
                                  company_id, icp_score, icp_score_reason, created_at, updated_at)
            VALUES
              ('{i.ada}', 'acme', 'ada.lovelace@acme-robotics.com', 'Ada', 'Lovelace',
               'customer', 'referral', '{i.acme}', 80, 'vp (+25), Software (+20)', {AT}, {AT}),
              ('{i.grace}', 'acme', 'grace.hopper@globex.com', 'Grace', 'Hopper',
               'lead', NULL, '{i.globex}', NULL, NULL, {AT}, {AT}),
              ('{i.linus}', 'acme', 'linus@gmail.com', 'Linus', NULL, NULL, 'other', NULL, 0,
               'no signal', {AT}, {AT});
            INSERT INTO contact_emails VALUES
              ('{i.ada}', 'acme', 'ada.lovelace@acme-robotics.com', true),
              ('{i.ada}', 'acme', 'ada@lovelace.dev', false),
              ('{i.grace}', 'acme', 'grace.hopper@globex.com', true),
              ('{i.linus}', 'acme', 'linus@gmail.com', true);
            INSERT INTO activities (id, org_id, type, status, subject, contact_id, company_id,
                                    direction, source, external_id, occurred_at)
            VALUES ('{i.email}', 'acme', 'email', 'completed', 'Robots', '{i.ada}', '{i.acme}',
                    'inbound', 'gmail', 'CAF=1@mail.gmail.com', {AT});
            INSERT INTO deals (id, org_id, name, contact_id, company_id, value, currency, status)
            VALUES ('{i.deal}', 'acme', 'Acme pilot', '{i.ada}', '{i.acme}', 1200000, 'USD',
                    'open');
            INSERT INTO tasks (id, org_id, title, contact_id, priority, status)
            VALUES ('{i.task}', 'acme', 'Call Grace', '{i.grace}', 'high', 'pending');
            INSERT INTO contact_sources VALUES
              ('acme', '{i.ada}', 'csv', 'hubspot-contacts.csv', 1, 'hubspot:101',
               'Ada.Lovelace@acme-robotics.com', 'new', 1.0),
              ('acme', '{i.grace}', 'csv', 'hubspot-contacts.csv', 2, 'hubspot:102',
               'grace.hopper@globex.com', 'new', 1.0),
              ('acme', '{i.linus}', 'csv', 'hubspot-contacts.csv', 4, 'hubspot:104',
               'linus@gmail.com', 'new', 1.0);
            INSERT INTO company_sources VALUES
              ('acme', '{i.acme}', 'csv', 'hubspot-contacts.csv', 1, 'hubspot:101',
               'acme-robotics.com', 'new', 1.0),
              ('acme', '{i.globex}', 'csv', 'companies.csv', 1, 'globex.com', 'globex.com',
               'new', 1.0);
            INSERT INTO rejected_records VALUES
              ('acme', 'csv', 'hubspot-contacts.csv', 3, '{{"Email": "not-an-email"}}',
               'invalid email ''not-an-email''');
            """
        )
        self._stage(con)

    def _stage(self, con: duckdb.DuckDBPyConnection) -> None:
        i = self.ids
        con.execute(
            f"""
            INSERT INTO manifest VALUES
              ('acme', 'csv', 'hubspot-contacts.csv', '/inbox/csv/hubspot-contacts.csv', 512,
               'aa', 4, 1, 'loaded', NULL, {AT}),
              ('acme', 'csv', 'companies.csv', '/inbox/csv/companies.csv', 64, 'bb', 1, 0,
               'loaded', NULL, {AT}),
              ('acme', 'gmail', 'inbox.mbox', '/inbox/gmail/inbox.mbox', 2048, 'cc', 1, 0,
               'loaded', NULL, {AT}),
              ('acme', 'csv', 'pipeline.csv', '/inbox/csv/pipeline.csv', 128, 'dd', 2, 0,
               'loaded', NULL, {AT});
            INSERT INTO stg_contacts BY NAME
            SELECT 'acme' AS org_id, 'csv' AS source_system,
                   'hubspot-contacts.csv' AS source_file, row AS source_row,
                   'r' || row AS record_id, entity AS entity_id, email, {AT} AS loaded_at
            FROM (VALUES (1, '{i.ada}', 'Ada.Lovelace@acme-robotics.com'),
                         (2, '{i.grace}', 'grace.hopper@globex.com'),
                         (4, '{i.linus}', 'linus@gmail.com')) t(row, entity, email);
            INSERT INTO stg_companies BY NAME
            SELECT 'acme' AS org_id, 'csv' AS source_system, file AS source_file,
                   1 AS source_row, record AS record_id, entity AS entity_id, {AT} AS loaded_at
            FROM (VALUES ('hubspot-contacts.csv', 'r1:company', '{i.acme}'),
                         ('companies.csv', 'c1', '{i.globex}')) t(file, record, entity);
            INSERT INTO stg_activities BY NAME
            SELECT 'acme' AS org_id, 'gmail' AS source_system, 'inbox.mbox' AS source_file,
                   'm1' AS record_id, '{i.email}' AS entity_id, {AT} AS loaded_at;
            INSERT INTO stg_deals BY NAME
            SELECT 'acme' AS org_id, 'csv' AS source_system, 'pipeline.csv' AS source_file,
                   1 AS source_row, 'p1' AS record_id, '{i.deal}' AS entity_id, {AT} AS loaded_at;
            INSERT INTO stg_tasks BY NAME
            SELECT 'acme' AS org_id, 'csv' AS source_system, 'pipeline.csv' AS source_file,
                   2 AS source_row, 'p2' AS record_id, '{i.task}' AS entity_id, {AT} AS loaded_at;
            """
        )

    def change_published(self, *statements: str) -> None:
        """Corrupt the analysts' file directly (what a buggy publish step would leave)."""
        with duckdb.connect(str(self.published)) as con:
            for statement in statements:
                con.execute(statement)

    def change_work(self, *statements: str) -> None:
        with duckdb.connect(str(self.work)) as con:
            for statement in statements:
                con.execute(statement)

    def republish(self) -> None:
        """Publish the work database again, as a run does after changing it."""
        with warehouse.connect_work(self.published) as con:
            warehouse.publish(con, self.published, force=True)

    def work_connection(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.work), read_only=True)
