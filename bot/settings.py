"""Settings, read once at start-up from the environment (and `.env`), then passed down."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_PLAYBOOK = Path(__file__).resolve().parent.parent / "content" / "playbook.yaml"
TOKEN_PATTERN = re.compile(r"^\d+:[A-Za-z0-9_-]+$")


class SettingsError(Exception):
    """Settings that stop start-up; the message has one line per problem, with the fix."""


class Settings(BaseSettings):
    """Everything configurable, by environment variable name."""

    model_config = SettingsConfigDict(
        env_file=".env", env_ignore_empty=True, extra="ignore", frozen=True, populate_by_name=True
    )

    telegram_bot_token: SecretStr | None = Field(
        default=None, validation_alias="TELEGRAM_BOT_TOKEN"
    )
    db_path: Path = Field(default=Path("rebond.db"), validation_alias="REBOND_DB")
    playbook_path: Path = Field(default=DEFAULT_PLAYBOOK, validation_alias="REBOND_PLAYBOOK")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] | None = Field(
        default=None, validation_alias="REBOND_LOG_LEVEL"
    )
    durable_writes: bool = Field(default=True, validation_alias="REBOND_DURABLE_WRITES")

    @field_validator("telegram_bot_token")
    @classmethod
    def _token_shape(cls, token: SecretStr | None) -> SecretStr | None:
        if token is not None and not TOKEN_PATTERN.match(token.get_secret_value()):
            raise ValueError(
                "does not look like a bot token (digits, ':' then letters); copy it from "
                "@BotFather, or unset it to chat in the terminal"
            )
        return token

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, level: object) -> object:
        return level.upper() if isinstance(level, str) else level

    @field_validator("db_path")
    @classmethod
    def _db_directory_exists(cls, path: Path) -> Path:
        if str(path) != ":memory:" and not path.parent.exists():
            raise ValueError(
                f"the folder {path.parent} does not exist; create it or choose another"
            )
        return path


ENV_NAMES = {name: str(field.validation_alias) for name, field in Settings.model_fields.items()}


def load_settings(**overrides: object) -> Settings:
    """Read the settings; SettingsError says which ones are wrong and how to fix them."""
    try:
        return Settings.model_validate(overrides)
    except ValidationError as error:
        lines = []
        for detail in error.errors(include_url=False):
            field = str(detail["loc"][0]) if detail["loc"] else "settings"
            name = ENV_NAMES.get(field, field)
            message = str(detail["msg"]).removeprefix("Value error, ")
            lines.append(f"{name}: {message}")
        raise SettingsError("\n".join(lines)) from None
