"""The ICP model: the `icp:` section of rex.yaml, validated with pydantic.

Sales ops change the model without code, so a mistake must fail the run at once with a
message that names the field and the problem ("icp.persona.seniority.points: unknown
seniority 'vice_president' (did you mean 'vp'?)"). Keys are normalised on load (industry
names to their canonical spelling, countries to ISO codes, size bands to "1001-5000"), so the
model's hash only changes when its meaning does.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from rapidfuzz import process

from rex_pipeline.schema import STAGES
from rex_pipeline.score.countries import country_of_text
from rex_pipeline.score.industries import INDUSTRIES, canonical_industry_name
from rex_pipeline.score.sizes import SIZE_BANDS, canonical_band_name
from rex_pipeline.score.text import normalise
from rex_pipeline.score.titles import DEPARTMENTS, SENIORITIES

Points = Annotated[int, Field(ge=-100, le=100, strict=True)]  # strict: YAML `true` is no score
Stage = Literal[STAGES]  # type: ignore[valid-type]


class IcpModelError(ValueError):
    """The ICP model in rex.yaml is invalid; the message names the field path and problem."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_COUNTRY_HINT = "use an ISO 3166 code (US, GB, DE) or an English country name"


def _suggest(key: str, choices: Sequence[str]) -> str:
    match = process.extractOne(key, choices, score_cutoff=60)
    return f" (did you mean {match[0]!r}?)" if match else ""


def _normalise_keys(
    points: Any, what: str, canonical: Callable[[str], str | None], choices: Sequence[str]
) -> Any:
    """Rewrite a points mapping's keys to canonical values, or fail naming the bad key."""
    if not isinstance(points, dict):
        return points  # pydantic reports the wrong type
    out: dict[str, Any] = {}
    for key, value in points.items():
        name = canonical(str(key))
        if name is None:
            expected = f"expected one of: {', '.join(choices)}" if choices else _COUNTRY_HINT
            raise ValueError(f"unknown {what} {key!r}{_suggest(str(key), choices)}; {expected}")
        if name in out:
            raise ValueError(f"{what} {name!r} is listed twice (as {key!r} and an earlier key)")
        out[name] = value
    return out


def _vocabulary_key(vocabulary: Sequence[str]) -> Callable[[str], str | None]:
    def canonical(key: str) -> str | None:
        wanted = normalise(key).replace(" ", "_")
        return wanted if wanted in vocabulary else None

    return canonical


class Criterion(_Strict):
    """Points for the values of one attribute. A value that is known but not listed scores
    `other`; a missing or unreadable one scores `unknown` (0 by default: missing data is not a
    mismatch)."""

    points: dict[str, Points] = Field(default_factory=dict)
    other: Points = 0
    unknown: Points = 0

    @property
    def active(self) -> bool:
        """Whether the criterion can change any score (inactive ones stay out of reasons)."""
        return bool(self.points) or self.other != 0 or self.unknown != 0


class IndustryCriterion(Criterion):
    """Industries, keyed by the canonical list; `aliases` maps the team's own raw values
    (e.g. "B2B SaaS") to a canonical industry before scoring."""

    aliases: dict[str, str] = Field(default_factory=dict)

    @field_validator("points", mode="before")
    @classmethod
    def _industries(cls, value: Any) -> Any:
        return _normalise_keys(value, "industry", canonical_industry_name, INDUSTRIES)

    @field_validator("aliases")
    @classmethod
    def _alias_targets(cls, value: dict[str, str]) -> dict[str, str]:
        out = {}
        for raw, target in value.items():
            name = canonical_industry_name(target)
            if name is None:
                raise ValueError(
                    f"alias {raw!r} points to unknown industry {target!r}"
                    f"{_suggest(target, INDUSTRIES)}; expected one of: {', '.join(INDUSTRIES)}"
                )
            out[normalise(raw)] = name
        return out


class SizeCriterion(Criterion):
    """Company size, keyed by employee band ("51-200", "1,001-5,000", "10001+")."""

    @field_validator("points", mode="before")
    @classmethod
    def _bands(cls, value: Any) -> Any:
        return _normalise_keys(value, "company size band", canonical_band_name, SIZE_BANDS)


class CountryCriterion(Criterion):
    """Country, keyed by ISO code or name ("US", "Germany")."""

    @field_validator("points", mode="before")
    @classmethod
    def _countries(cls, value: Any) -> Any:
        return _normalise_keys(value, "country", country_of_text, ())


class SeniorityCriterion(Criterion):
    """Seniority read from the title: founder, c_level, vp, head, director, manager,
    individual_contributor."""

    @field_validator("points", mode="before")
    @classmethod
    def _levels(cls, value: Any) -> Any:
        return _normalise_keys(value, "seniority", _vocabulary_key(SENIORITIES), SENIORITIES)


class DepartmentCriterion(Criterion):
    """Department read from the title: engineering, sales, marketing, product …"""

    @field_validator("points", mode="before")
    @classmethod
    def _departments(cls, value: Any) -> Any:
        return _normalise_keys(value, "department", _vocabulary_key(DEPARTMENTS), DEPARTMENTS)


class Firmographic(_Strict):
    industry: IndustryCriterion = IndustryCriterion()
    company_size: SizeCriterion = SizeCriterion()
    country: CountryCriterion = CountryCriterion()


class Persona(_Strict):
    seniority: SeniorityCriterion = SeniorityCriterion()
    department: DepartmentCriterion = DepartmentCriterion()


class EngagementRule(_Strict):
    """`points` for each matching activity, counted at most `max_times`, only within the last
    `within_days` days when set (otherwise all time)."""

    points: Points
    max_times: int = Field(1, ge=1, le=100)
    within_days: int | None = Field(None, ge=1, le=3650)


class RecentActivityRule(EngagementRule):
    within_days: int = Field(..., ge=1, le=3650)  # "recent" needs a window


class Engagement(_Strict):
    """Points from activities. Windows end at the newest activity in the data (never later
    than the run) by default, so the same inbox always gives the same scores; `run` measures
    them from the run time instead, so scores can decay day by day."""

    relative_to: Literal["latest_activity", "run"] = "latest_activity"
    inbound_reply: EngagementRule | None = None
    meeting: EngagementRule | None = None
    recent_activity: RecentActivityRule | None = None
    bounce: EngagementRule | None = None
    unsubscribe: EngagementRule | None = None

    def rules(self) -> dict[str, EngagementRule]:
        """The configured rules by signal name, in the fixed signal order."""
        return {name: rule for name in ENGAGEMENT_SIGNALS if (rule := getattr(self, name))}


ENGAGEMENT_SIGNALS: tuple[str, ...] = (
    "inbound_reply",
    "meeting",
    "recent_activity",
    "bounce",
    "unsubscribe",
)


class StageRule(_Strict):
    """Points added for a lifecycle stage, and an optional ceiling on the final score."""

    points: Points = 0
    cap: int | None = Field(None, ge=0, le=100)


class IcpModel(_Strict):
    """The whole model. Bump `version` when you change it; `model_hash` tells versions apart
    even when someone forgets."""

    version: int | str = 1
    firmographic: Firmographic = Firmographic()
    persona: Persona = Persona()
    engagement: Engagement = Engagement()
    stage: dict[Stage, StageRule] = Field(default_factory=dict)  # type: ignore[valid-type]

    @field_validator("version", mode="before")
    @classmethod
    def _plain_version(cls, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValueError("must be a number or a short text, e.g. 3 or '2025-06'")
        return value

    def criteria(self) -> dict[str, Criterion]:
        """The attribute criteria by feature name, in the fixed reason order."""
        return {
            "seniority": self.persona.seniority,
            "industry": self.firmographic.industry,
            "department": self.persona.department,
            "company_size": self.firmographic.company_size,
            "country": self.firmographic.country,
        }


def _field_path(loc: tuple[int | str, ...]) -> str:
    return ".".join(["icp", *(str(p) for p in loc if p != "[key]")])


def _allowed_fields(loc: tuple[int | str, ...]) -> list[str]:
    """Field names allowed where an unknown field appeared (walks the model classes)."""
    model: Any = IcpModel
    for part in loc[:-1]:
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return []
        candidates = [field.annotation, *get_args(field.annotation)]
        model = next(
            (c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None
        )
        if model is None:
            return []
    return list(model.model_fields)


def _describe(error: Any) -> str:
    loc = tuple(error["loc"])
    if error["type"] == "extra_forbidden":
        allowed = _allowed_fields(loc)
        hint = f"; allowed here: {', '.join(allowed)}" if allowed else ""
        return f"{_field_path(loc)}: unknown field{_suggest(str(loc[-1]), allowed)}{hint}"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{_field_path(loc)}: {message}"


def load_icp_model(section: dict[str, Any] | None, source: Path | None = None) -> IcpModel:
    """Validate the `icp:` section of rex.yaml (or the `source` file). Raises IcpModelError
    (a ValueError) naming the file, every bad field path and its problem."""
    if section is not None and not isinstance(section, dict):
        raise IcpModelError(f"icp: expected a mapping, got {type(section).__name__}")
    try:
        return IcpModel.model_validate(section or {})
    except ValidationError as exc:
        problems = "; ".join(_describe(e) for e in exc.errors())
        where = source or "rex.yaml"
        raise IcpModelError(f"invalid ICP model in {where}: {problems}") from exc


def model_hash(model: IcpModel) -> str:
    """Short, stable hash of the normalised model (keys sorted, defaults filled in): two
    models that score identically spelled differently in YAML hash the same."""
    canonical = json.dumps(model.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12]
