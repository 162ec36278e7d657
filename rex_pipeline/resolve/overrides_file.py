"""Recording an analyst's decision about a pair in the overrides file (`rex overrides`).

The file stays the one place decisions live, and people still edit it by hand; this writes
the same entries for them from the review loop (`rex duplicates`, `rex contacts explain`, then
decide). Each side is checked first: an id, an email address (contacts) or a domain
(companies), both of one kind of entity. A pair is held by one list at most, so a decision
that contradicts an earlier one is refused until that one is removed. The file is rewritten
with its comments and layout kept (ruamel.yaml round trip) and replaced atomically, so a sync
reading it meanwhile sees the old file or the new one, never half of one.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any, Literal

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from rex_pipeline.ids import is_id_of
from rex_pipeline.normalise.domains import registrable_domain
from rex_pipeline.normalise.emails import validate_email_value
from rex_pipeline.resolve.fuzzy.overrides import OverridesError, load_overrides
from rex_pipeline.schema import ID_PREFIXES

Kind = Literal["must_merge", "never_merge"]
KINDS: tuple[Kind, ...] = ("must_merge", "never_merge")

_ID_PREFIXES = {f"{ID_PREFIXES[entity]}_": entity for entity in ("contact", "company")}

_NEW_FILE = """\
# Identity-resolution overrides: decisions people made about two contacts or companies.
# Every sync honours them (see the header of the repository's data/overrides.yaml).
must_merge: []
never_merge: []
"""


def reference(value: str) -> tuple[str, str]:
    """(entity, reference as the file should hold it) for one side of a pair: an id as given,
    an email address normalised, a domain reduced to its registrable domain."""
    ref = value.strip()
    for prefix, entity in _ID_PREFIXES.items():
        if ref.startswith(prefix):
            if not is_id_of(prefix[:-1], ref):
                raise OverridesError(f"{value!r} is not a valid {entity} id ({prefix}…)")
            return entity, ref
    if "@" in ref:
        address, problem = validate_email_value(ref)
        if address is None:
            raise OverridesError(f"{value!r} is not a valid email address: {problem}")
        return "contact", address.lower()
    domain = registrable_domain(ref) if "." in ref else None
    if domain is None:
        raise OverridesError(
            f"{value!r} is not a contact or company id, an email address or a domain"
        )
    return "company", domain


def pair_of(a: str, b: str) -> tuple[str, str]:
    """Both sides checked and normalised; they must name two entities of one kind."""
    (kind_a, ref_a), (kind_b, ref_b) = reference(a), reference(b)
    if kind_a != kind_b:
        raise OverridesError(f"{a} is a {kind_a} and {b} a {kind_b}: a pair names one kind")
    if ref_a == ref_b:
        raise OverridesError(f"both sides are {ref_a}")
    return ref_a, ref_b


def record_decision(
    path: Path, kind: Kind, a: str, b: str, note: str | None = None
) -> tuple[tuple[str, str], bool]:
    """Add the pair to `kind` (with `note`): the pair as written, and False when that
    decision was already recorded. Refused when the other list holds the pair."""
    pair = pair_of(a, b)
    document = _load(path)
    held = _holding(document, pair)
    if kind in held:
        return pair, False
    if held:  # the other list
        raise OverridesError(
            f"{held[0]} already holds {pair[0]} + {pair[1]} in {path}: remove that decision "
            f"first (rex overrides remove {pair[0]} {pair[1]})"
        )
    entries = _entries(document, kind)
    if note:
        entry: CommentedMap | CommentedSeq = CommentedMap(a=pair[0], b=pair[1], note=note)
    else:
        entry = CommentedSeq(pair)
    entry.fa.set_flow_style()
    entries.append(entry)
    _save(path, document)
    return pair, True


def remove_decision(path: Path, a: str, b: str) -> tuple[Kind, tuple[str, str]]:
    """Remove the decision about the pair; returns the list it was in and the pair."""
    pair = pair_of(a, b)
    document = _load(path)
    held = _holding(document, pair)
    if not held:
        raise OverridesError(f"no decision about {pair[0]} + {pair[1]} in {path}")
    entries = _entries(document, held[0])
    keep = [e for e in entries if _pair_in(e) != _pair_in(pair)]
    entries.clear()
    entries.extend(keep)
    _save(path, document)
    return held[0], pair


def decisions(path: Path) -> list[dict[str, Any]]:
    """Every decision in the file: kind, a, b, note (None when there is none)."""
    document = _load(path)
    rows = []
    for kind in KINDS:
        for entry in document.get(kind) or []:
            a, b = _sides(entry)
            note = entry.get("note") if isinstance(entry, dict) else None
            rows.append({"kind": kind, "a": str(a), "b": str(b), "note": note})
    return rows


def _yaml() -> YAML:
    yaml = YAML()  # round trip: comments, order and quoting kept
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096  # a long note stays on one line
    return yaml


def _load(path: Path) -> CommentedMap:
    """The file as an editable document, after checking that a sync can read it at all."""
    load_overrides(path)  # the sync's own validation: a broken file is fixed by hand first
    text = path.read_text(encoding="utf-8") if path.exists() else _NEW_FILE
    try:
        document = _yaml().load(text) or CommentedMap()
    except YAMLError as exc:
        raise OverridesError(f"{path}: not valid YAML: {exc}") from exc
    return document


def _entries(document: CommentedMap, kind: Kind) -> CommentedSeq:
    """The list of `kind`, created if missing, in block style (one entry per line)."""
    entries = document.get(kind)
    if entries is None:
        entries = document[kind] = CommentedSeq()
    entries.fa.set_block_style()
    return entries


def _sides(entry: Any) -> tuple[Any, Any]:
    """The two references of an entry: `[a, b]` or `{a: …, b: …, note: …}`."""
    return (entry.get("a"), entry.get("b")) if isinstance(entry, dict) else tuple(entry)


def _pair_in(entry: Any) -> frozenset[str]:
    """An entry's (or a pair's) two references, in either order, case-insensitively (ids are
    lower case as written)."""
    return frozenset(str(side).strip().lower() for side in _sides(entry))


def _holding(document: CommentedMap, pair: tuple[str, str]) -> list[Kind]:
    """The lists that hold the pair."""
    wanted = _pair_in(pair)
    return [kind for kind in KINDS if any(_pair_in(e) == wanted for e in document.get(kind) or [])]


def _save(path: Path, document: CommentedMap) -> None:
    """Write the document beside the file, then replace the file with it."""
    buffer = io.StringIO()
    _yaml().dump(document, buffer)
    partial = path.with_name(f".{path.name}.partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial.write_text(buffer.getvalue(), encoding="utf-8")
        os.replace(partial, path)
    except OSError as exc:
        raise OverridesError(f"cannot write {path}: {exc.strerror or exc}") from exc
