"""Smart-list search: the Rex OR-of-AND filter model compiled to one parameterised SQL query.

A request is `{"query": {"groups": [{"conditions": [{"field", "op", "value"}, …]}, …]}, "q": …}`:
a contact matches when every condition of at least one group holds, and every word of `q` is
found in its name, an email, its company's name or a custom-field value. Fields are contact
columns, `name`, `company.name|domain|industry`, `tags` and `custom.<key>[.<key>…]` paths into
metadata. The models validate field, op and value together, so a bad request fails before any
SQL is built, with the path of the bad part (`query.groups[0].conditions[1].value: …`).

Semantics: text comparisons ignore case; `neq` and `not_contains` also match a missing value;
on `tags` every op asks about any one tag (`eq`: has this tag, `in`: has any of these), and
eq/neq/in match tags exactly as stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import duckdb
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from rex_pipeline.query.connection import Scope
from rex_pipeline.query.filters import ListRequest, UtcDateTime
from rex_pipeline.query.layout import Layout
from rex_pipeline.query.lists import filtered_page
from rex_pipeline.query.pages import Page
from rex_pipeline.query.resources import CONTACTS_R
from rex_pipeline.query.textsearch import MAX_WORDS, check_words, words_of
from rex_pipeline.schema import CONTACT_SOURCE_VALUES, STAGES

Op = Literal[
    "eq",
    "neq",
    "contains",
    "not_contains",
    "starts_with",
    "in",
    "gt",
    "gte",
    "lt",
    "lte",
    "is_empty",
    "is_not_empty",
]
Kind = Literal["text", "enum", "integer", "timestamp", "tags", "custom"]

MAX_GROUPS = 20
MAX_CONDITIONS = 20
MAX_IN_VALUES = 1000

_CUSTOM_KEY = re.compile(r"[\w\- ]{1,64}(\.[\w\- ]{1,64}){0,4}")
_TIMESTAMP = TypeAdapter(UtcDateTime)
FreeText = Annotated[str, Field(max_length=200), AfterValidator(check_words)]


@dataclass(frozen=True)
class FieldSpec:
    kind: Kind
    sql: str  # expression over contacts `t` (and companies `co`)
    needs_company: bool = False
    choices: tuple[str, ...] = ()


def _col(name: str) -> str:
    return f't."{name}"'


FIELDS: dict[str, FieldSpec] = {
    **{
        name: FieldSpec("text", _col(name))
        for name in (
            "id",
            "email",
            "first_name",
            "last_name",
            "phone",
            "title",
            "linkedin_url",
            "source_detail",
            "company_id",
            "owner_id",
            "icp_score_reason",
        )
    },
    "name": FieldSpec("text", "concat_ws(' ', t.first_name, t.last_name)"),
    "stage": FieldSpec("enum", _col("stage"), choices=STAGES),
    "source": FieldSpec("enum", _col("source"), choices=CONTACT_SOURCE_VALUES),
    "icp_score": FieldSpec("integer", _col("icp_score")),
    "icp_scored_at": FieldSpec("timestamp", _col("icp_scored_at")),
    "created_at": FieldSpec("timestamp", _col("created_at")),
    "updated_at": FieldSpec("timestamp", _col("updated_at")),
    "tags": FieldSpec("tags", _col("tags")),
    "company.name": FieldSpec("text", 'co."name"', needs_company=True),
    "company.domain": FieldSpec("text", 'co."domain"', needs_company=True),
    "company.industry": FieldSpec("text", 'co."industry"', needs_company=True),
}

_ALL_OPS: tuple[str, ...] = Op.__args__  # type: ignore[attr-defined]
OPS: dict[Kind, tuple[str, ...]] = {
    "text": ("eq", "neq", "contains", "not_contains", "starts_with", "in", "is_empty",
             "is_not_empty"),
    "enum": ("eq", "neq", "in", "is_empty", "is_not_empty"),
    "integer": ("eq", "neq", "in", "gt", "gte", "lt", "lte", "is_empty", "is_not_empty"),
    "timestamp": ("eq", "neq", "gt", "gte", "lt", "lte", "is_empty", "is_not_empty"),
    "tags": ("eq", "neq", "contains", "not_contains", "starts_with", "in", "is_empty",
             "is_not_empty"),
    "custom": _ALL_OPS,
}  # fmt: skip


def field_spec(field: str) -> tuple[FieldSpec, list[Any]]:
    """The spec of a field name and the parameters its SQL needs (the JSON path of a custom
    field travels as a parameter, never as SQL text). Raises ValueError naming the field."""
    if field in FIELDS:
        return FIELDS[field], []
    key = field.removeprefix("custom.")
    if field.startswith("custom.") and _CUSTOM_KEY.fullmatch(key):
        path = "$." + ".".join(f'"{part}"' for part in key.split("."))
        return FieldSpec("custom", "json_extract_string(t.metadata, ?)"), [path]
    raise ValueError(
        f"unknown field {field!r}; use one of {', '.join(FIELDS)} or custom.<key>"
        " (letters, digits, _ - and spaces)"
    )


# --- request models ---------------------------------------------------------------------------


class Condition(BaseModel):
    """One test on one field. Validators run in field order, so `op` is checked against the
    field's kind and `value` against both."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    field: str = Field(max_length=200)
    op: Op
    value: Any = Field(None, validate_default=True)

    @field_validator("field")
    @classmethod
    def _known_field(cls, field: str) -> str:
        field_spec(field)
        return field

    @field_validator("op")
    @classmethod
    def _op_fits_field(cls, op: str, info: ValidationInfo) -> str:
        field = info.data.get("field")
        if field is not None:
            kind = field_spec(field)[0].kind
            if op not in OPS[kind]:
                raise ValueError(
                    f"{op!r} does not apply to {field} ({kind}); use one of {', '.join(OPS[kind])}"
                )
        return op

    @field_validator("value")
    @classmethod
    def _value_fits(cls, value: Any, info: ValidationInfo) -> Any:
        field, op = info.data.get("field"), info.data.get("op")
        if field is None or op is None:
            return value  # the field or op is already reported
        spec = field_spec(field)[0]
        if op in ("is_empty", "is_not_empty"):
            if value not in (None, ""):
                raise ValueError(f"{op} takes no value")
            return None
        if op == "in":
            if not isinstance(value, list) or not 1 <= len(value) <= MAX_IN_VALUES:
                raise ValueError(f"in needs a list of 1 to {MAX_IN_VALUES} values")
            values = [_scalar(spec, op, v, f"{field} in") for v in value]
            if spec.kind == "custom" and len({isinstance(v, str) for v in values}) > 1:
                raise ValueError("in on a custom field needs all texts or all numbers")
            return values
        return _scalar(spec, op, value, field)


def _scalar(spec: FieldSpec, op: str, value: Any, where: str) -> Any:
    """Check one value against the field's kind; returns it in the form the SQL compares (texts
    as given: the SQL lower-cases both sides, with DuckDB's case rules)."""
    if spec.kind in ("text", "tags", "enum"):
        if not isinstance(value, str) or not value or len(value) > 500:
            raise ValueError(f"{where} needs a text of 1 to 500 characters, got {value!r}")
        if spec.kind == "enum" and value not in spec.choices:
            raise ValueError(f"{value!r} is not valid for {where}; use one of "
                             f"{', '.join(spec.choices)}")  # fmt: skip
        return value
    if spec.kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{where} needs a number, got {value!r}")
        return value
    if spec.kind == "timestamp":
        try:
            return _TIMESTAMP.validate_python(value)
        except ValidationError as exc:
            error = exc.errors()[0]
            if error["type"] == "value_error":  # a time, but out of range (filters._utc)
                raise ValueError(f"{where}: {error['msg'].removeprefix('Value error, ')}") from None
            raise ValueError(f"{where} needs an ISO date or time, got {value!r}") from None
    # custom: texts compare as text, numbers as numbers, booleans only for (in)equality
    if isinstance(value, bool):
        if op not in ("eq", "neq"):
            raise ValueError(f"{op} on {where} needs a number or a text, not true/false")
        return "true" if value else "false"
    if isinstance(value, int | float):
        if op in ("contains", "not_contains", "starts_with"):
            raise ValueError(f"{op} on {where} needs a text, got {value!r}")
        return value
    if not isinstance(value, str) or not value or len(value) > 500:
        raise ValueError(f"{where} needs a text, number or true/false, got {value!r}")
    return value


class Group(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    conditions: list[Condition] = Field(min_length=1, max_length=MAX_CONDITIONS)


class SmartQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    groups: list[Group] = Field(default_factory=list, max_length=MAX_GROUPS)


class SmartListRequest(ListRequest):
    """The smart-list request; paging, sort and fields work as in the contacts list."""

    resource = CONTACTS_R

    query: SmartQuery = Field(default_factory=SmartQuery, description="OR of AND groups.")
    q: FreeText | None = Field(None, description=f"Free text (at most {MAX_WORDS} words).")

    def text_words(self) -> list[str]:
        return words_of(self.q)


# --- compilation ------------------------------------------------------------------------------

# In _TEXT and the substring ops on tags, each `?` becomes lower(?) (see compile_condition).
_TEXT = {
    "eq": "lower({e}) = ?",
    "neq": "({e} IS NULL OR lower({e}) <> ?)",
    "contains": "contains(lower({e}), ?)",
    "not_contains": "({e} IS NULL OR NOT contains(lower({e}), ?))",
    "starts_with": "starts_with(lower({e}), ?)",
    "in": "lower({e}) IN ({qs})",
    "is_empty": "({e} IS NULL OR {e} = '')",
    "is_not_empty": "({e} IS NOT NULL AND {e} <> '')",
}
_VALUE = {
    "eq": "{e} = ?",
    "neq": "{e} IS DISTINCT FROM ?",
    "gt": "{e} > ?",
    "gte": "{e} >= ?",
    "lt": "{e} < ?",
    "lte": "{e} <= ?",
    "in": "{e} IN ({qs})",
    "is_empty": "{e} IS NULL",
    "is_not_empty": "{e} IS NOT NULL",
}
_LOWER_TAGS = "list_transform(coalesce({e}, []::VARCHAR[]), lambda x: lower(x))"
_TAGS = {  # eq/neq/in match a tag exactly as stored; the substring ops ignore case
    "eq": "list_contains(coalesce({e}, []::VARCHAR[]), ?)",
    "neq": "NOT list_contains(coalesce({e}, []::VARCHAR[]), ?)",
    "contains": f"len(list_filter({_LOWER_TAGS}, lambda x: contains(x, ?))) > 0",
    "not_contains": f"len(list_filter({_LOWER_TAGS}, lambda x: contains(x, ?))) = 0",
    "starts_with": f"len(list_filter({_LOWER_TAGS}, lambda x: starts_with(x, ?))) > 0",
    "in": "list_has_any(coalesce({e}, []::VARCHAR[]), ?)",
    "is_empty": "len(coalesce({e}, []::VARCHAR[])) = 0",
    "is_not_empty": "len(coalesce({e}, []::VARCHAR[])) > 0",
}
_ENUM = {**_VALUE, "is_empty": _TEXT["is_empty"], "is_not_empty": _TEXT["is_not_empty"]}


def _render(
    template: str, expr: str, expr_params: list[Any], values: list[Any]
) -> tuple[str, list[Any]]:
    """Fill `{e}` with the field's expression, keeping `?` parameters in textual order."""
    pieces = template.split("{e}")
    remaining = iter(values)
    params: list[Any] = []
    for i, piece in enumerate(pieces):
        if i:
            params += expr_params
        params += [next(remaining) for _ in range(piece.count("?"))]
    return expr.join(pieces), params


def compile_condition(cond: Condition) -> tuple[str, list[Any], bool]:
    """SQL for one validated condition, its parameters, and whether it needs the company."""
    spec, expr_params = field_spec(cond.field)
    expr, value = spec.sql, cond.value
    values = value if cond.op == "in" else ([] if value is None else [value])
    lowered = False  # compare lower-cased texts
    if spec.kind == "tags":
        template = _TAGS[cond.op]
        values = [values] if cond.op == "in" else values  # one list parameter
        lowered = cond.op in ("contains", "not_contains", "starts_with")
    elif spec.kind == "custom" and values and isinstance(values[0], int | float):
        template, expr = _VALUE[cond.op], f"TRY_CAST({expr} AS DOUBLE)"
    elif spec.kind == "custom" and cond.op in ("gt", "gte", "lt", "lte"):
        template = _VALUE[cond.op]
    elif spec.kind in ("text", "custom"):
        template, lowered = _TEXT[cond.op], True
    else:
        template = (_ENUM if spec.kind == "enum" else _VALUE)[cond.op]
    placeholder = "lower(?)" if lowered else "?"
    template = template.replace("?", placeholder)
    if "{qs}" in template:
        template = template.replace("{qs}", ", ".join([placeholder] * len(values)))
    sql, params = _render(template, expr, expr_params, values)
    return sql, params, spec.needs_company


def compile_search(request: SmartListRequest) -> tuple[list[str], list[Any], bool]:
    """WHERE clauses for the request's groups (its free text is matched apart, see
    textsearch), their parameters, and whether to join companies."""
    clauses: list[str] = []
    params: list[Any] = []
    needs_company = False
    groups_sql = []
    for group in request.query.groups:
        parts = []
        for cond in group.conditions:
            sql, cond_params, needs = compile_condition(cond)
            parts.append(sql)
            params += cond_params
            needs_company |= needs
        groups_sql.append("(" + " AND ".join(parts) + ")")
    if groups_sql:
        clauses.append("(" + " OR ".join(groups_sql) + ")")
    return clauses, params, needs_company


def search_contacts(
    conn: duckdb.DuckDBPyConnection, scope: Scope, layout: Layout, request: SmartListRequest
) -> Page:
    """One page of the contacts matching a smart-list request."""
    where, params, needs_company = compile_search(request)
    source = '"contacts" AS t'
    if needs_company:
        source += ' LEFT JOIN "companies" AS co ON co.org_id = t.org_id AND co.id = t.company_id'
    return filtered_page(conn, scope, layout, request, source, where, params, wide_text=True)
