"""End to end, as an ops analyst sees it: `dagster dev` (webserver + daemon, exactly what `make dev`
starts) on a free port with a throwaway DAGSTER_HOME, inbox and warehouse, driven through
Dagster's GraphQL API.

It checks that the code location loads with the sensor running, launches two syncs back to back
(the second must wait in the run queue instead of failing on the DuckDB lock), sees every run
succeed with every asset check passing, then drops a new export into the inbox and sees the
sensor start a run that loads it, then records an analyst's decision with `rex overrides` and
sees the overrides sensor start the run that applies it. About two minutes on a busy 2-core
machine, so it carries the `integration` marker; `make test` (and CI) still runs it.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pytest
import yaml

from rex_pipeline.definitions import defs
from rex_pipeline.ops.jobs import SYNC_JOB_NAME, sync_run_config
from rex_pipeline.ops.rules import RULES

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
DAGSTER = REPO / ".venv" / "bin" / "dagster"
REX = str(REPO / ".venv" / "bin" / "rex")
LOCATION = "rex_pipeline"  # workspace.yaml
TIMEOUT = 180.0  # seconds for any one thing to happen; the machine is shared and slow

HUBSPOT = """\
"Record ID","First Name","Last Name","Email","Phone Number","Contact owner","Lead Status","Create Date","Associated Company"
"101","Ada","Lovelace","Ada.Lovelace@acme-robotics.com","+1 415 555 0101","maria@northwind-labs.io","OPEN","2023-01-15 09:30","Acme Robotics"
"102","Grace","Hopper","grace.hopper@globex.com","(415) 555-0102","maria@northwind-labs.io","IN_PROGRESS","2023-02-01 12:00","Globex"
"103","Alan","Turing","not-an-email","","","","2023-02-02 12:00",""
"104","Katherine","Johnson","katherine.j+crm@gmail.com","","","","2023-02-03 12:00",""
"""  # noqa: E501

APOLLO = """\
First Name,Last Name,Title,Company Name,Email,Email Status,Seniority,Person Linkedin Url,Country
Ada,Lovelace,VP Engineering,Acme Robotics Inc.,ada.lovelace@acme-robotics.com,Verified,vp,http://www.linkedin.com/in/adalovelace,United States
Linus,Torvalds,Fellow,Initech,linus@initech.com,Verified,senior,https://linkedin.com/in/linus-t/,Finland
Katherine,Johnson,Research Mathematician,NASA,kjohnson@nasa.gov,Verified,senior,,United States
"""  # noqa: E501

CHECKS = {r.name for r in RULES} | {
    "records_accounted_for",
    "rejected_share_drift",
    "duplicate_rate_drift",
}
RUN = "runId status startTime endTime tags { key value }"
FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class DagsterDev:
    """A running `dagster dev` and the folders it works on."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path
    inbox: Path
    warehouse: Path

    def graphql(self, query: str, **variables: Any) -> dict[str, Any]:
        body = json.dumps({"query": query, "variables": variables}).encode()
        request = urllib.request.Request(
            f"{self.url}/graphql", body, {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            payload = json.loads(response.read())
        assert "errors" not in payload, payload["errors"]
        return payload["data"]

    def log_tail(self, lines: int = 60) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def wait_for(self, what: str, probe: Callable[[], T | None], timeout: float = TIMEOUT) -> T:
        """Poll `probe` until it returns something, failing with the server's log if it never
        does (or if `dagster dev` died)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"dagster dev exited:\n{self.log_tail()}"
            try:
                found = probe()
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                found = None
            if found is not None:
                return found
            time.sleep(1)
        pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{self.log_tail()}")

    # --- the GraphQL calls the test needs ---

    def location_loaded(self) -> bool | None:
        data = self.graphql(
            """{ workspaceOrError { ... on Workspace { locationEntries {
                   name loadStatus
                   locationOrLoadError { __typename ... on PythonError { message } } } } } }"""
        )
        entries = {e["name"]: e for e in data["workspaceOrError"]["locationEntries"]}
        entry = entries.get(LOCATION)
        if entry is None or entry["loadStatus"] != "LOADED":
            return None
        error = entry["locationOrLoadError"]
        assert error["__typename"] == "RepositoryLocation", error.get("message")
        return True

    def sensor_status(self, name: str) -> str:
        data = self.graphql(
            """query($selector: SensorSelector!) { sensorOrError(sensorSelector: $selector) {
                   __typename ... on Sensor { sensorState { status } } } }""",
            selector={
                "repositoryLocationName": LOCATION,
                "repositoryName": "__repository__",
                "sensorName": name,
            },
        )
        return data["sensorOrError"]["sensorState"]["status"]

    def launch(self, job: str, run_config: dict[str, Any]) -> str:
        data = self.graphql(
            """mutation($params: ExecutionParams!) { launchRun(executionParams: $params) {
                   __typename
                   ... on LaunchRunSuccess { run { runId } }
                   ... on PythonError { message }
                   ... on RunConfigValidationInvalid { errors { message } } } }""",
            params={
                "selector": {
                    "repositoryLocationName": LOCATION,
                    "repositoryName": "__repository__",
                    "jobName": job,
                },
                "runConfigData": run_config,
            },
        )
        result = data["launchRun"]
        assert result["__typename"] == "LaunchRunSuccess", result
        return result["run"]["runId"]

    def run(self, run_id: str) -> dict[str, Any]:
        data = self.graphql(
            f"query($id: ID!) {{ runOrError(runId: $id) {{ ... on Run {{ {RUN} }} }} }}",
            id=run_id,
        )
        return data["runOrError"]

    def runs(self) -> list[dict[str, Any]]:
        data = self.graphql(f"{{ runsOrError {{ ... on Runs {{ results {{ {RUN} }} }} }} }}")
        return data["runsOrError"]["results"]

    def finished(self, run_id: str) -> dict[str, Any]:
        return self.wait_for(
            f"run {run_id} to finish",
            lambda: run if (run := self.run(run_id))["status"] in FINISHED else None,
        )

    def check_results(self, run_id: str) -> dict[str, dict[str, Any]]:
        data = self.graphql(
            """query($id: ID!) { logsForRun(runId: $id, limit: 5000) {
                   ... on EventConnection { events { __typename
                       ... on AssetCheckEvaluationEvent {
                           evaluation { checkName success severity description } } } } } }""",
            id=run_id,
        )
        events = data["logsForRun"]["events"]
        return {
            e["evaluation"]["checkName"]: e["evaluation"]
            for e in events
            if e["__typename"] == "AssetCheckEvaluationEvent"
        }


def tags(run: dict[str, Any]) -> dict[str, str]:
    return {t["key"]: t["value"] for t in run["tags"]}


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop dagster dev and everything it started (webserver, daemon, code server, run
    workers): they share its process group. Politely first, then for sure."""
    if process.poll() is not None:
        return
    for sig, grace in ((signal.SIGINT, 30), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture
def dagster_dev(tmp_path: Path) -> Iterator[DagsterDev]:
    if not DAGSTER.exists():
        pytest.skip(f"{DAGSTER} not installed (run `make install`)")
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(REPO / "dagster.instance.yaml", home / "dagster.yaml")
    config = yaml.safe_load((REPO / "rex.yaml").read_text(encoding="utf-8"))
    config["sync"] = {**config.get("sync", {}), "sensor_interval_seconds": 5, "settle_seconds": 1}
    config["overrides_path"] = str(tmp_path / "overrides.yaml")  # never the repository's
    (tmp_path / "rex.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    inbox = tmp_path / "inbox"
    for folder in ("csv", "gmail", "instantly"):
        (inbox / folder).mkdir(parents=True)
    (inbox / "csv" / "hubspot-contacts-2024.csv").write_text(HUBSPOT, encoding="utf-8")
    warehouse = tmp_path / "warehouse" / "rex.duckdb"
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "REX_CONFIG": str(tmp_path / "rex.yaml"),
        "REX_INBOX_DIR": str(inbox),
        "REX_DUCKDB_PATH": str(warehouse),
        "REX_ORG_ID": "acme-org",
    }
    env.pop("REX_OWN_DOMAINS", None)
    port = free_port()
    log = tmp_path / "dagster_dev.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(DAGSTER), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so stop() reaches every child
        )
    server = DagsterDev(process, f"http://127.0.0.1:{port}", log, inbox, warehouse)
    try:
        yield server
    finally:
        stop(process)
        print(f"--- dagster dev log (tail) ---\n{server.log_tail(200)}")


def contacts(warehouse: Path) -> list[str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return [r[0] for r in con.execute("SELECT email FROM contacts ORDER BY email").fetchall()]


def katherines(warehouse: Path) -> list[str]:
    """The contacts holding either of Katherine Johnson's addresses."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "SELECT DISTINCT contact_id FROM contact_emails WHERE email IN "
            "('katherine.j+crm@gmail.com', 'kjohnson@nasa.gov')"
        ).fetchall()
    return [r[0] for r in rows]


def test_dagster_dev_syncs_checks_and_reacts_to_the_inbox_and_to_decisions(
    dagster_dev: DagsterDev,
) -> None:
    dev = dagster_dev
    dev.wait_for("the code location to load", dev.location_loaded)
    assert dev.sensor_status("inbox_sensor") == "RUNNING"

    # two syncs launched back to back: one writer at a time, the second waits in the queue
    incremental = dev.launch(SYNC_JOB_NAME, {})
    full = dev.launch(SYNC_JOB_NAME, sync_run_config(defs.resolve_job_def(SYNC_JOB_NAME), True))
    for run_id in (incremental, full):
        run = dev.finished(run_id)
        assert run["status"] == "SUCCESS", dev.log_tail()
        checks = dev.check_results(run_id)
        assert set(checks) >= CHECKS
        assert all(c["success"] for c in checks.values()), checks
    assert contacts(dev.warehouse) == [
        "ada.lovelace@acme-robotics.com",
        "grace.hopper@globex.com",
        "katherine.j+crm@gmail.com",
    ]

    # a new export lands in the inbox: the sensor starts an incremental sync for it
    dropped = time.time()
    (dev.inbox / "csv" / "apollo_people.csv").write_text(APOLLO, encoding="utf-8")

    def sensor_run() -> dict[str, Any] | None:
        for run in dev.runs():
            run_tags = tags(run)
            if run_tags.get("dagster/sensor_name") == "inbox_sensor" and "apollo_people.csv" in (
                run_tags.get("rex/changed_files", "")
            ):
                return run
        return None

    triggered = dev.wait_for("the inbox sensor to start a run for the new file", sensor_run)
    assert tags(triggered)["rex/sync"] == "incremental"
    assert tags(triggered)["dagster/run_key"].startswith("inbox-")
    triggered = dev.finished(triggered["runId"])
    assert triggered["status"] == "SUCCESS", dev.log_tail()
    assert all(c["success"] for c in dev.check_results(triggered["runId"]).values())
    assert "linus@initech.com" in contacts(dev.warehouse)

    # an analyst decides from a shell that the two Katherines (no evidence in common but the
    # name) are one person: the overrides sensor starts a sync, which merges them with nothing
    # new in the inbox
    assert len(katherines(dev.warehouse)) == 2
    decided = subprocess.run(
        [REX, "overrides", "merge", "katherine.j+crm@gmail.com", "kjohnson@nasa.gov"],
        env={**os.environ, "REX_CONFIG": str(dev.inbox.parent / "rex.yaml")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert decided.returncode == 0 and decided.stdout.startswith("must_merge: "), decided

    def decision_run() -> dict[str, Any] | None:
        for run in dev.runs():
            if tags(run).get("dagster/sensor_name") == "overrides_sensor":
                return run
        return None

    applied = dev.wait_for("the overrides sensor to start a run", decision_run)
    applied = dev.finished(applied["runId"])
    assert applied["status"] == "SUCCESS", dev.log_tail()
    assert len(katherines(dev.warehouse)) == 1

    # every run of the session (ours and the sensors') succeeded, and none overlapped
    runs = sorted(dev.runs(), key=lambda r: r["startTime"])
    assert len(runs) >= 4 and all(r["status"] == "SUCCESS" for r in runs), runs
    for earlier, later in itertools.pairwise(runs):
        assert earlier["endTime"] <= later["startTime"], (earlier, later)
    assert triggered["startTime"] >= dropped
