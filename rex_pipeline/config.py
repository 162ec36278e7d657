"""Settings: `rex.yaml` validated with pydantic, overridden by the contract's environment
variables (REX_INBOX_DIR, REX_DUCKDB_PATH, REX_ORG_ID, REX_OWN_DOMAINS, REX_CONFIG).

One loader for every entry point (Dagster resources, CLI, tests, benchmarks) so that the same
inbox and the same config always mean the same run.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

REPO_ROOT = Path(__file__).resolve().parent.parent

SurvivorshipRule = Literal["oldest", "newest"]
# The contact fields a survivorship rule can name (`merge.survivorship` folds each of them).
SurvivorshipField = Literal[
    "first_name",
    "last_name",
    "phone",
    "title",
    "linkedin_url",
    "source",
    "source_detail",
    "company_id",
    "owner_id",
]


class ConfigError(ValueError):
    """The configuration is invalid; the message names the field and the problem."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ResolutionSettings(_Strict):
    """Identity-resolution thresholds and survivorship (see README, "Resolution")."""

    merge_threshold: float = Field(0.80, ge=0, le=1)
    review_threshold: float = Field(0.50, ge=0, le=1)
    max_block_size: int = Field(200, ge=2)
    fuzzy: bool = True
    survivorship: dict[SurvivorshipField, SurvivorshipRule] = Field(
        default_factory=lambda: {
            "first_name": "oldest",
            "last_name": "oldest",
            "title": "newest",
            "phone": "newest",
            "linkedin_url": "oldest",
            "owner_id": "oldest",
            "source": "oldest",
            "source_detail": "oldest",
            "company_id": "newest",
        }
    )

    @model_validator(mode="after")
    def _review_below_merge(self) -> ResolutionSettings:
        if self.review_threshold > self.merge_threshold:
            raise ValueError("review_threshold must not exceed merge_threshold")
        return self


class GmailSettings(_Strict):
    skip_spam_and_trash: bool = True


class SyncSettings(_Strict):
    """When the scheduled full sync runs, and how the inbox sensor waits for writers."""

    cron: str = "0 6 * * *"
    timezone: str = "UTC"
    sensor_interval_seconds: int = Field(30, ge=5)
    settle_seconds: int = Field(5, ge=0)


class SavedView(_Strict):
    """A named smart-list filter published to `saved_views` (runnable with `rex views run`)."""

    name: str = Field(min_length=1)
    description: str = ""
    query: dict[str, Any]


class Settings(_Strict):
    """The whole configuration of one run."""

    inbox_dir: Path = Path("data/inbox")
    duckdb_path: Path = Path("data/rex.duckdb")
    org_id: str = "default"
    own_domains: tuple[str, ...] = ()
    default_phone_region: str = "US"
    overrides_path: Path = Path("data/overrides.yaml")
    resolution: ResolutionSettings = ResolutionSettings()
    gmail: GmailSettings = GmailSettings()
    sync: SyncSettings = SyncSettings()
    icp: dict[str, Any] = Field(default_factory=dict)
    views: tuple[SavedView, ...] = ()
    config_file: Path | None = None  # the file these settings were read from, if any

    @field_validator("default_phone_region")
    @classmethod
    def _known_region(cls, value: str) -> str:
        import phonenumbers

        region = value.strip().upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"{value!r} is not a region phonenumbers knows (e.g. US, GB, DE)")
        return region

    @field_validator("own_domains", mode="before")
    @classmethod
    def _split_domains(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.split(",")
        return tuple(str(v).strip().lower() for v in value or () if str(v).strip())

    @field_validator("org_id")
    @classmethod
    def _org_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("org_id must not be blank")
        return value.strip()

    @property
    def work_db_path(self) -> Path:
        """The pipeline's private read-write database; analysts never open it, so their
        read-only handles on `duckdb_path` can never block a run (see publish/)."""
        return self.duckdb_path.with_name(f".{self.duckdb_path.stem}.work.duckdb")


def _resolve(path: Path, base: Path) -> Path:
    return path if path.is_absolute() else (base / path)


# The contract's environment variables, by the setting each overrides.
_ENV = {
    "inbox_dir": "REX_INBOX_DIR",
    "duckdb_path": "REX_DUCKDB_PATH",
    "org_id": "REX_ORG_ID",
    "own_domains": "REX_OWN_DOMAINS",
}


def _problem(error: Any, origin: dict[str, str]) -> str:
    """ "field: message", saying where the value came from when not from the file."""
    field = ".".join(str(p) for p in error["loc"])
    came = origin.get(str(error["loc"][0])) if error["loc"] else None
    return f"{field} ({came}): {error['msg']}" if came else f"{field}: {error['msg']}"


def load_settings(config_path: str | Path | None = None, **overrides: Any) -> Settings:
    """Read rex.yaml (or REX_CONFIG), apply the contract's environment variables, then any
    explicit overrides (Dagster run config, tests). Relative paths are taken from the current
    directory, as the CLI and `dagster` run from the repo root."""
    path = Path(config_path or os.environ.get("REX_CONFIG") or REPO_ROOT / "rex.yaml")
    raw: dict[str, Any] = {}
    if path.exists():
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: the top level must be a mapping")
        raw.update(loaded)
    elif config_path or os.environ.get("REX_CONFIG"):
        raise ConfigError(f"config file not found: {path}")
    env = {k: os.environ.get(name) for k, name in _ENV.items()}
    given = {k: v for k, v in env.items() if v}
    raw.update(given)
    raw.update({k: v for k, v in overrides.items() if v is not None})
    origin = {k: f"from {_ENV[k]}" for k in given}  # where a bad value came from
    origin |= {k: "from the run's config" for k, v in overrides.items() if v is not None}
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(_problem(err, origin) for err in exc.errors())
        raise ConfigError(f"invalid configuration in {path}: {problems}") from exc
    cwd = Path.cwd()
    return settings.model_copy(
        update={
            "inbox_dir": _resolve(settings.inbox_dir, cwd),
            "duckdb_path": _resolve(settings.duckdb_path, cwd),
            "overrides_path": _resolve(settings.overrides_path, cwd),
            "config_file": path if path.exists() else None,
        }
    )
