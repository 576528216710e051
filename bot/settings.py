"""Settings, read once at start-up from the environment (and `.env`), then passed down."""

from __future__ import annotations

import os
import re
import typing
from pathlib import Path
from typing import Annotated, Literal

from dotenv import dotenv_values
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_PLAYBOOK = Path(__file__).resolve().parent.parent / "content" / "playbook.yaml"
ENV_FILE = ".env"
TOKEN_ENV = "TELEGRAM_BOT_TOKEN"
DB_ENV = "REBOND_DB"
TOKEN_PATTERN = re.compile(r"^\d+:[A-Za-z0-9_-]+$")


class SettingsError(Exception):
    """Settings that stop start-up; the message has one line per problem, with the fix."""


class Settings(BaseSettings):
    """Everything configurable, by environment variable name."""

    model_config = SettingsConfigDict(
        env_file=ENV_FILE, env_ignore_empty=True, extra="ignore", frozen=True, populate_by_name=True
    )

    telegram_bot_token: SecretStr | None = Field(
        default=None, validation_alias="TELEGRAM_BOT_TOKEN"
    )
    db_path: Path = Field(default=Path("rebond.db"), validation_alias="REBOND_DB")
    playbook_path: Path = Field(default=DEFAULT_PLAYBOOK, validation_alias="REBOND_PLAYBOOK")
    telegram_api_url: str = Field(
        default="https://api.telegram.org", validation_alias="REBOND_TELEGRAM_API_URL"
    )
    webhook_url: str | None = Field(default=None, validation_alias="REBOND_WEBHOOK_URL")
    webhook_secret: SecretStr | None = Field(default=None, validation_alias="REBOND_WEBHOOK_SECRET")
    webhook_listen: str = Field(default="127.0.0.1", validation_alias="REBOND_WEBHOOK_LISTEN")
    webhook_port: int = Field(default=8443, ge=1, le=65535, validation_alias="REBOND_WEBHOOK_PORT")
    max_messages_per_second: float = Field(
        default=30, ge=0, validation_alias="REBOND_MAX_MESSAGES_PER_SECOND"
    )
    checkin_grace_hours: float = Field(
        default=3, ge=0, le=12, validation_alias="REBOND_CHECKIN_GRACE_HOURS"
    )
    checkin_tick_seconds: float = Field(
        default=30, gt=0, le=3600, validation_alias="REBOND_CHECKIN_TICK_SECONDS"
    )
    checkin_batch: int = Field(
        default=500, ge=1, le=10_000, validation_alias="REBOND_CHECKIN_BATCH"
    )
    poll_timeout: int = Field(default=30, ge=0, le=50, validation_alias="REBOND_POLL_TIMEOUT")
    coach_ids: Annotated[frozenset[int], NoDecode] = Field(
        default=frozenset(), validation_alias="REBOND_COACH_IDS"
    )
    delivery_keep_days: float = Field(
        default=7, gt=0, le=3650, validation_alias="REBOND_DELIVERY_KEEP_DAYS"
    )
    """Processed inbox rows, finished outbox rows and update receipts are pruned after this."""
    wal_scrub_seconds: float = Field(
        default=60, gt=0, le=3600, validation_alias="REBOND_WAL_SCRUB_SECONDS"
    )
    """At most this long after an update is processed, the write-ahead log is folded into
    the database and emptied, so the update's words (emptied from the inbox) leave the disk."""
    retention_days: int | None = Field(default=None, ge=1, validation_alias="REBOND_RETENTION_DAYS")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] | None = Field(
        default=None, validation_alias="REBOND_LOG_LEVEL"
    )
    durable_writes: bool = Field(default=True, validation_alias="REBOND_DURABLE_WRITES")
    web_url: str | None = Field(default=None, validation_alias="REBOND_WEB_URL")
    web_listen: str = Field(default="127.0.0.1", validation_alias="REBOND_WEB_LISTEN")
    web_port: int = Field(default=8080, ge=1, le=65535, validation_alias="REBOND_WEB_PORT")
    web_secret: SecretStr | None = Field(default=None, validation_alias="REBOND_WEB_SECRET")
    quiet_hours: str = Field(default="21:00-08:00", validation_alias="REBOND_QUIET_HOURS")
    """Local hours without unasked messages (reminders), until a manager sets their own."""

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_range(cls, hours: str) -> str:
        from .journey.quiet import parse_quiet_hours

        parse_quiet_hours(hours)
        return hours.strip()

    @field_validator("telegram_bot_token")
    @classmethod
    def _token_shape(cls, token: SecretStr | None) -> SecretStr | None:
        if token is not None and not TOKEN_PATTERN.match(token.get_secret_value()):
            raise ValueError(
                "does not look like a bot token (digits, ':' then letters); copy it from "
                "@BotFather, or unset it to chat in the terminal"
            )
        return token

    @field_validator("telegram_api_url", "webhook_url", "web_url")
    @classmethod
    def _http_url(cls, url: str | None) -> str | None:
        if url is not None and not re.match(r"^https?://[^/\s]+", url):
            raise ValueError(f"'{url}' is not an http(s) URL; write it like https://host/path")
        return url.rstrip("/") if url is not None else None

    @field_validator("webhook_secret")
    @classmethod
    def _secret_shape(cls, secret: SecretStr | None) -> SecretStr | None:
        if secret is not None and not re.match(
            r"^[A-Za-z0-9_-]{1,256}$", secret.get_secret_value()
        ):
            raise ValueError(
                "use 1 to 256 characters among A-Z, a-z, 0-9, _ and - (Telegram's rule)"
            )
        return secret

    @field_validator("web_secret")
    @classmethod
    def _long_secret(cls, secret: SecretStr | None) -> SecretStr | None:
        if secret is not None and len(secret.get_secret_value()) < 32:
            raise ValueError(
                "use at least 32 random characters (python3 -c 'import secrets; "
                "print(secrets.token_urlsafe(32))'), or unset it to have one generated and stored"
            )
        return secret

    @field_validator("coach_ids", mode="before")
    @classmethod
    def _comma_separated_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [part for part in re.split(r"[,\s]+", value) if part]
            if not all(part.isdigit() for part in parts):
                raise ValueError(
                    "write the coaches' Telegram user ids as numbers separated by commas, "
                    "like 12345,67890"
                )
            return frozenset(int(part) for part in parts)
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, level: object) -> object:
        return level.upper() if isinstance(level, str) else level

    @field_validator("db_path")
    @classmethod
    def _db_directory_exists(cls, path: Path) -> Path:
        if str(path) == ".":  # Path("") is "."
            raise ValueError("is empty or a folder; give the database file's path, like rebond.db")
        if str(path) != ":memory:" and not path.parent.exists():
            raise ValueError(
                f"the folder {path.parent} does not exist; create it or choose another"
            )
        return path


ENV_NAMES = {name: str(field.validation_alias) for name, field in Settings.model_fields.items()}
FIELD_NAMES = {env: name for name, env in ENV_NAMES.items()}
COMMAND_LINE = {"db_path": "--db"}
"""Settings the command line can give: an error names the option, not the variable."""


def load_settings(**overrides: object) -> Settings:
    """Read the settings; SettingsError says which ones are wrong and how to fix them."""
    lines = []
    if "telegram_bot_token" not in overrides and _set_but_empty(TOKEN_ENV):
        # Empty settings count as unset, but an empty token is a mistake, not a wish for the
        # terminal chat: say so rather than start the wrong adapter.
        lines.append(
            f"{TOKEN_ENV}: is set but empty; paste the token from @BotFather, or remove the "
            "line to chat in the terminal"
        )
    if "db_path" not in overrides and _set_but_empty(DB_ENV):
        # As the token: an empty path is a mistake, not a wish for ./rebond.db.
        lines.append(
            f"{DB_ENV}: is set but empty; write the database file's path, or remove the line "
            "to use rebond.db in the working folder"
        )
    try:
        settings = Settings.model_validate(overrides)
    except ValidationError as error:
        for detail in error.errors(include_url=False):
            field = str(detail["loc"][0]) if detail["loc"] else "settings"
            field = FIELD_NAMES.get(field, field)  # from the environment: by its variable
            name = COMMAND_LINE.get(field) if field in overrides else None
            name = name or ENV_NAMES.get(field, field)
            expected = _expected(field)
            if expected is not None and detail["type"] != "value_error":
                message = f"'{detail['input']}' is not {expected}"
            else:
                message = str(detail["msg"]).removeprefix("Value error, ")
            lines.append(f"{name}: {message}")
    if lines:
        raise SettingsError("\n".join(lines))
    return settings


def _expected(field: str) -> str | None:
    """What a numeric or yes/no setting takes, in words: "a number from 0 to 12"; else None."""
    info = Settings.model_fields.get(field)
    if info is None:
        return None
    kinds = typing.get_args(info.annotation) or (info.annotation,)
    if bool in kinds:
        return "yes or no (true or false, 1 or 0, on or off)"
    if int in kinds:
        kind = "a whole number"
    elif float in kinds:
        kind = "a number"
    else:
        return None
    bounds: dict[str, float] = {
        key: value
        for constraint in info.metadata
        for key in ("ge", "gt", "le", "lt")
        if (value := getattr(constraint, key, None)) is not None
    }
    low = "ge" in bounds and f"{bounds['ge']:g}"
    above = "gt" in bounds and f"above {bounds['gt']:g}"
    high = "le" in bounds and f"{bounds['le']:g}"
    if low and high:
        return f"{kind} from {low} to {high}"
    if above and high:
        return f"{kind} {above}, up to {high}"
    if low:
        return f"{kind} of {low} or more"
    if above:
        return f"{kind} {above}"
    return f"{kind} up to {high}" if high else kind


def _set_but_empty(name: str) -> bool:
    """True when the variable is in the environment or in .env, with only blanks as value."""
    value = os.environ.get(name)
    if value is None and Path(ENV_FILE).is_file():
        value = dotenv_values(ENV_FILE).get(name)
    return value is not None and not value.strip()
