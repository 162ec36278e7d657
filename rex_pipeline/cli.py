"""`rex`: ask the warehouse the Rex API's questions from a shell.

    rex contacts list --stage prospect --limit 25      (every list filter is an option)
    rex contacts get cont_…  |  rex contacts timeline cont_…  |  rex contacts deals cont_…
    rex contacts explain cont_… cont_…   (why two contacts are one, or two; companies too)
    rex duplicates --entity contact --min-score 0.7   (the review queue)
    rex companies list --name acme  |  rex activities list --type email --after 2024-01-01
    rex search --filter filter.json  |  rex views list  |  rex views run NAME  |  rex summary
    rex overrides merge A B  |  rex overrides keep-apart A B --note "siblings"  (decisions)

Reads the warehouse named by REX_DUCKDB_PATH (read-only) for the org REX_ORG_ID (or --org).
`rex overrides` writes only the analysts' decisions file, which the next sync applies.
Output is a table, `--format json` (the API's JSON) or `--format csv` (lists). Errors are one
line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import json
import sys
import types
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

import click
from pydantic import BaseModel

from rex_pipeline.config import ConfigError, load_settings
from rex_pipeline.query import QueryError, Warehouse, WarehouseUnavailable
from rex_pipeline.query.filters import LIST_REQUESTS
from rex_pipeline.query.formatting import (
    TABLE_COLUMNS,
    page_footer,
    render_csv,
    render_explanation,
    render_json,
    render_record,
    render_summary,
    render_table,
    render_views,
)
from rex_pipeline.query.lists import parse_request
from rex_pipeline.query.pages import Page
from rex_pipeline.query.resources import RESOURCES
from rex_pipeline.query.review import ReviewRequest, review_columns
from rex_pipeline.query.smartlist import SmartListRequest
from rex_pipeline.query.timeline import EVENT_FIELDS, TimelineRequest
from rex_pipeline.resolve.fuzzy.overrides import OverridesError
from rex_pipeline.resolve.overrides_file import (
    Kind,
    decisions,
    record_decision,
    remove_decision,
)

EXIT_ERROR = 1
EXIT_USAGE = 2


class CliError(Exception):
    """A problem with how rex was called that click cannot see (a bad --filter file …)."""


def _format_option(*choices: str) -> Callable[[Any], Any]:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(choices),
        default=choices[0],
        show_default=True,
        help="Output format.",
    )


def _warehouse(ctx: click.Context) -> Warehouse:
    return Warehouse(org_id=ctx.obj["org"], owner_id=ctx.obj["owner"])


# --- options generated from the request models ------------------------------------------------


def _parts(annotation: Any) -> list[Any]:
    """A type and, through Optional/Union/Annotated, every type inside it."""
    if get_origin(annotation) in (Union, types.UnionType) or hasattr(annotation, "__metadata__"):
        return [annotation, *(p for arg in get_args(annotation) for p in _parts(arg))]
    return [annotation]


def _choices(annotation: Any) -> tuple[str, ...]:
    literals = [t for t in _parts(annotation) if get_origin(t) is Literal]
    return get_args(literals[0]) if literals else ()


def _metavar(annotation: Any) -> str:
    parts = _parts(annotation)
    if int in parts:
        return "N"
    if float in parts:
        return "NUMBER"
    if datetime in parts:
        return "TIME"
    return "CHOICE" if _choices(annotation) else "TEXT"


def model_options(model: type[BaseModel], skip: tuple[str, ...] = ()) -> list[click.Option]:
    """One option per request field (`icp_score_min` -> `--icp-score-min`); values pass to the
    model as given, so validation and its messages are the API's own."""
    options = []
    for name, field in model.model_fields.items():
        if name in skip:
            continue
        flag = "--" + name.replace("_", "-")
        help_text = field.description or ""
        if choices := _choices(field.annotation):
            help_text += f" One of: {', '.join(choices)}."
        if name == "sort" and (resource := getattr(model, "resource", None)):
            help_text += f" One of: {', '.join(resource.sorts)}."
        if field.annotation is bool:
            options.append(click.Option([flag, name], is_flag=True, default=None, help=help_text))
        elif any(get_origin(t) is list for t in _parts(field.annotation)):
            options.append(
                click.Option([flag, name], multiple=True, help=help_text + " Repeatable.")
            )
        else:
            options.append(
                click.Option([flag, name], metavar=_metavar(field.annotation), help=help_text)
            )
    return options


def _given(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None and v != ()}


# --- output -------------------------------------------------------------------------------------


def _emit_page(page: Page, table: str, fmt: str, fields: tuple[str, ...] = ()) -> None:
    columns = [f.strip() for item in fields for f in item.split(",") if f.strip()]
    all_columns = list(RESOURCES[table].columns) if table in RESOURCES else EVENT_FIELDS
    _emit_rows(page, fmt, columns or TABLE_COLUMNS[table], columns or all_columns)


def _emit_rows(page: Page, fmt: str, shown: list[str], every: list[str]) -> None:
    """A page as JSON, as a table of the `shown` columns, or as CSV of `every` column (its
    footer on stderr, so the CSV stays clean)."""
    if fmt == "json":
        click.echo(render_json(page))
    elif fmt == "csv":
        click.echo(render_csv(page["data"], every))
        if page["has_more"]:
            click.echo(page_footer(page), err=True)
    else:
        click.echo(render_table(page["data"], shown))
        click.echo(page_footer(page))


def _emit(answer: Any, fmt: str, render: Callable[[Any], str]) -> None:
    click.echo(render_json(answer) if fmt == "json" else render(answer))


# --- commands -------------------------------------------------------------------------------------


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--org", help="Organisation to answer for (default: REX_ORG_ID, then rex.yaml).")
@click.option(
    "--owner",
    help="Answer as this owner: only their contacts and those contacts' records.",
)
@click.pass_context
def cli(ctx: click.Context, org: str | None, owner: str | None) -> None:
    """Read-only questions to the rex warehouse (REX_DUCKDB_PATH), and the analysts'
    decisions about pairs (`rex overrides`)."""
    ctx.obj = {"org": org, "owner": owner}


def _list_command(resource: str) -> click.Command:
    @click.pass_context
    def run(ctx: click.Context, fmt: str, **params: Any) -> None:
        with _warehouse(ctx) as wh:
            page = wh.list_records(resource, _given(params))
        _emit_page(page, resource, fmt, params.get("fields") or ())

    command = click.Command(
        "list",
        callback=run,
        params=model_options(LIST_REQUESTS[resource]),
        help=f"List {resource}, filtered, sorted and paged (--cursor for the next page).",
    )
    return _format_option("table", "json", "csv")(command)


def _get_command(resource: str) -> click.Command:
    @click.command("get", help=f"One {RESOURCES[resource].type} with its related records.")
    @click.argument("record_id")
    @_format_option("table", "json")
    @click.pass_context
    def get(ctx: click.Context, record_id: str, fmt: str) -> None:
        with _warehouse(ctx) as wh:
            answer = wh.get(resource, record_id)
        _emit(answer, fmt, render_record)

    return get


def _timeline_command(resource: Literal["contacts", "companies"]) -> click.Command:
    @click.pass_context
    def run(ctx: click.Context, record_id: str, fmt: str, **params: Any) -> None:
        with _warehouse(ctx) as wh:
            page = wh.timeline(resource, record_id, _given(params))
        _emit_page(page, "timeline", fmt)

    command = click.Command(
        "timeline",
        callback=run,
        params=[click.Argument(["record_id"]), *model_options(TimelineRequest)],
        help="Activities, stage changes, merges and deal events in time order.",
    )
    return _format_option("table", "json", "csv")(command)


def _related_command(related: Literal["deals", "activities", "tasks"]) -> click.Command:
    @click.pass_context
    def run(ctx: click.Context, contact_id: str, fmt: str, **params: Any) -> None:
        with _warehouse(ctx) as wh:
            page = wh.contact_related(contact_id, related, _given(params))
        _emit_page(page, related, fmt, params.get("fields") or ())

    command = click.Command(
        related,
        callback=run,
        params=[
            click.Argument(["contact_id"]),
            *model_options(LIST_REQUESTS[related], skip=("contact_id",)),
        ],
        help=f"The contact's {related}.",
    )
    return _format_option("table", "json", "csv")(command)


def _explain_command(resource: str) -> click.Command:
    entity = "contact" if resource == "contacts" else "company"

    @click.pass_context
    def run(ctx: click.Context, id_a: str, id_b: str, fmt: str) -> None:
        with _warehouse(ctx) as wh:
            explain = wh.explain_contacts if entity == "contact" else wh.explain_companies
            answer = explain(id_a, id_b)
        _emit(answer, fmt, render_explanation)

    command = click.Command(
        "explain",
        callback=run,
        params=[
            click.Argument(["id_a"], metavar=f"{entity.upper()}_A"),
            click.Argument(["id_b"], metavar=f"{entity.upper()}_B"),
        ],
        help=f"Why two {resource} are one, or two: the evidence a sync scores them with (per "
        "field: level, weight, similarity), its verdict, and whether blocking compares them.",
    )
    return _format_option("table", "json")(command)


for _name in RESOURCES:
    _group = click.Group(_name, help=f"Questions about {_name}.")
    _group.add_command(_list_command(_name))
    _group.add_command(_get_command(_name))
    if _name in ("contacts", "companies"):
        _group.add_command(_timeline_command(_name))  # type: ignore[arg-type]
        _group.add_command(_explain_command(_name))
    if _name == "contacts":
        for _related in ("deals", "activities", "tasks"):
            _group.add_command(_related_command(_related))  # type: ignore[arg-type]
    cli.add_command(_group)


def _duplicates_command() -> click.Command:
    @click.pass_context
    def run(ctx: click.Context, fmt: str, **params: Any) -> None:
        with _warehouse(ctx) as wh:
            page = wh.review_queue(_given(params))
        columns = review_columns(params.get("entity") or "contact")
        _emit_rows(page, fmt, [c for c in columns if c != "detected_at"], columns)

    command = click.Command(
        "duplicates",
        callback=run,
        params=model_options(ReviewRequest),
        help="The review queue: pairs a sync scored between the review and merge thresholds, "
        "highest score first. 'rex contacts explain A B' (or 'rex companies explain A B') shows "
        "a pair's evidence; 'rex overrides merge A B' or 'keep-apart A B' settles it at the "
        "next sync.",
    )
    return _format_option("table", "json", "csv")(command)


cli.add_command(_duplicates_command())


def _read_filter(path: str) -> dict[str, Any]:
    """The smart-list request in a JSON file (`-` for standard input)."""
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot read filter file {path}: {exc.strerror or exc}") from exc
    try:
        request = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CliError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    if not isinstance(request, dict):
        raise CliError(f'{path}: expected a JSON object like {{"query": {{"groups": [...]}}}}')
    return request


def _search_command() -> click.Command:
    @click.pass_context
    def run(ctx: click.Context, filter_path: str | None, fmt: str, **params: Any) -> None:
        stored = _read_filter(filter_path) if filter_path else {}
        # parsed here so the output shows the fields the request asks for, option or file
        request = parse_request(SmartListRequest, {**stored, **_given(params)})
        with _warehouse(ctx) as wh:
            page = wh.search(request)
        _emit_page(page, "contacts", fmt, tuple(request.fields or ()))

    filter_option = click.Option(
        ["--filter", "filter_path"],
        metavar="FILE",
        help='JSON smart-list request: {"query": {"groups": [...]}, "q": "...", "limit": 50}.',
    )
    command = click.Command(
        "search",
        callback=run,
        params=[filter_option, *model_options(SmartListRequest, skip=("query",))],
        help="Smart-list search over contacts (OR of AND groups, plus free text).",
    )
    return _format_option("table", "json", "csv")(command)


cli.add_command(_search_command())


@cli.group("views")
def views_group() -> None:
    """Saved smart-list views."""


@views_group.command("list")
@_format_option("table", "json")
@click.pass_context
def views_list(ctx: click.Context, fmt: str) -> None:
    """The org's saved views."""
    with _warehouse(ctx) as wh:
        answer = wh.views()
    _emit(answer, fmt, render_views)


@views_group.command("run")
@click.argument("name")
@click.option("--limit", help="Rows per page (1–200).")
@click.option("--cursor", help="next_cursor of the previous page.")
@_format_option("table", "json", "csv")
@click.pass_context
def views_run(
    ctx: click.Context, name: str, limit: str | None, cursor: str | None, fmt: str
) -> None:
    """Run saved view NAME."""
    with _warehouse(ctx) as wh:
        request = wh.view_request(name, limit=limit, cursor=cursor)
        page = wh.search(request)
    _emit_page(page, "contacts", fmt, tuple(request.fields or ()))  # a view may name its fields


@cli.command("summary")
@_format_option("table", "json")
@click.pass_context
def summary_command(ctx: click.Context, fmt: str) -> None:
    """Rows per table, rejected records by reason, top 5 contacts by ICP score."""
    with _warehouse(ctx) as wh:
        answer = wh.summary()
    _emit(answer, fmt, render_summary)


# --- decisions: the one file rex writes ---------------------------------------------------------


@click.group("overrides")
def overrides_group() -> None:
    """Analysts' decisions about pairs: the overrides file (data/overrides.yaml, or
    overrides_path in rex.yaml), the one file rex writes. The next sync applies them; under
    `make dev` the overrides sensor starts one when they change."""


def _decide_command(name: str, kind: Kind, meaning: str, effect: str) -> click.Command:
    @click.pass_context
    def run(ctx: click.Context, id_a: str, id_b: str, note: str | None) -> None:
        path = load_settings().overrides_path
        (a, b), added = record_decision(path, kind, id_a, id_b, note)
        if not added:
            click.echo(f"{kind}: {a} + {b} is already recorded in {path}.")
            return
        click.echo(f"{kind}: {a} + {b}, recorded in {path}. The next sync {effect}.")
        # a typo, or a pair the warehouse already settles, is worth saying at once
        answered = _with_status(ctx, [{"kind": kind, "a": a, "b": b, "note": note}])
        if answered and not answered[0]["status"].startswith("pending"):
            click.echo(f"note: {answered[0]['status']}", err=True)

    return click.Command(
        name,
        callback=run,
        params=[
            click.Argument(["id_a"], metavar="A"),
            click.Argument(["id_b"], metavar="B"),
            click.Option(["--note"], help="Why, for the next person reading the file."),
        ],
        help=f"Record that A and B {meaning} ({kind}): the next sync {effect}. A and B are "
        "ids (cont_…, comp_…), email addresses (contacts) or domains (companies).",
    )


def _with_status(ctx: click.Context, rows: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """The decisions with their state in the warehouse, for the whole org (decisions are
    org-wide); None before any sync has written a warehouse."""
    try:
        with Warehouse(org_id=ctx.obj["org"]) as wh:
            return wh.decision_status(rows)
    except WarehouseUnavailable:
        return None


@click.command("remove")
@click.argument("id_a", metavar="A")
@click.argument("id_b", metavar="B")
def remove_command(id_a: str, id_b: str) -> None:
    """Take back the decision about A and B (the next sync leaves them to the evidence; a
    merge already made stays)."""
    path = load_settings().overrides_path
    kind, (a, b) = remove_decision(path, id_a, id_b)
    click.echo(f"{kind}: the decision about {a} + {b} is removed from {path}.")


@click.command("list")
@_format_option("table", "json", "csv")
@click.pass_context
def list_decisions_command(ctx: click.Context, fmt: str) -> None:
    """Every decision in the overrides file, and whether it has taken effect in the warehouse
    (applied, pending until the next sync, waiting for a reference no sync has seen)."""
    rows = decisions(load_settings().overrides_path)
    columns = ["kind", "a", "b", "note"]
    answered = _with_status(ctx, rows)
    if answered is not None:  # else no sync yet: the decisions alone
        rows, columns = answered, ["kind", "a", "b", "status", "note", "id_a", "id_b"]
    if fmt == "table":
        columns = columns[:5]
    if fmt == "json":
        click.echo(render_json({"data": rows}))
    else:
        click.echo(render_csv(rows, columns) if fmt == "csv" else render_table(rows, columns))


overrides_group.add_command(
    _decide_command(
        "merge",
        "must_merge",
        "are one person (or company)",
        "merges them whatever the evidence says",
    )
)
overrides_group.add_command(
    _decide_command(
        "keep-apart",
        "never_merge",
        "are two people (or companies)",
        "keeps them apart whatever the evidence says and takes them off the review queue",
    )
)
overrides_group.add_command(remove_command)
overrides_group.add_command(list_decisions_command)
cli.add_command(overrides_group)


# --- entry point --------------------------------------------------------------------------------


def _one_line(message: str) -> str:
    return " ".join(str(message).split())


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; every failure becomes one line on stderr and an exit code."""
    try:
        cli.main(args=argv, prog_name="rex", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.NoArgsIsHelpError as exc:  # a bare `rex deals`: show its help
        click.echo(exc.ctx.get_help() if exc.ctx else exc.format_message())
        return EXIT_USAGE
    except click.UsageError as exc:
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
        click.echo(f"rex: {_one_line(exc.format_message())}{hint}", err=True)
        return EXIT_USAGE
    except click.ClickException as exc:
        click.echo(f"rex: {_one_line(exc.format_message())}", err=True)
        return exc.exit_code
    except click.Abort:
        click.echo("rex: aborted", err=True)
        return EXIT_ERROR
    except (QueryError, ConfigError, CliError, OverridesError) as exc:
        click.echo(f"rex: {_one_line(str(exc))}", err=True)
        return EXIT_ERROR
    except BrokenPipeError:
        sys.stderr.close()  # the reader (head, less) went away; nothing left to say
        return 0
    except Exception as exc:  # a bug: still one line, with the type to report it by
        click.echo(f"rex: unexpected error ({type(exc).__name__}): {_one_line(str(exc))}", err=True)
        return EXIT_ERROR
    return 0
