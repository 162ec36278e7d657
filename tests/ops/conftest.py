"""Fixtures of the ops tests: a small consistent warehouse (see ops_warehouse), built once per
session and copied for each test."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ops.ops_warehouse import Warehouse


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    return Warehouse.build(tmp_path_factory.mktemp("template"))


@pytest.fixture
def built(template: Warehouse, tmp_path: Path) -> Warehouse:
    return template.copy_to(tmp_path)
