"""Reading Bot API parameters the way Telegram does.

Telegram accepts a query string, a urlencoded form, a multipart form or a JSON body.
PTB sends a urlencoded form (multipart when uploading), where every non-string value is
JSON-encoded: ``chat_id=42``, ``show_alert=true``, ``reply_markup={"inline_keyboard":...}``.
So each getter accepts both the typed JSON value and its string form.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.web_request import FileField

from .errors import ApiError, bad_request


@dataclass(frozen=True)
class UploadedFile:
    """One multipart file part."""

    filename: str | None
    content_type: str | None
    data: bytes


class Params:
    """The parameters of one call, with Telegram-like coercion."""

    def __init__(
        self, values: dict[str, Any], files: dict[str, UploadedFile] | None = None
    ) -> None:
        self.values = values
        self.files = files or {}

    def has(self, name: str) -> bool:
        """Whether the parameter was sent at all (an uploaded file counts)."""
        return name in self.values or name in self.files

    def get_str(self, name: str, default: str | None = None) -> str | None:
        """A string parameter; numbers sent as JSON are turned into their text."""
        value = self.values.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        if isinstance(value, str):
            return value
        return json.dumps(value)

    def get_int(self, name: str, default: int | None = None) -> int | None:
        """An integer parameter ("42" and 42 both work)."""
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        try:
            return int(str(value).strip())
        except ValueError:
            raise bad_request(f'field "{name}" must be of type Integer') from None

    def get_float(self, name: str, default: float | None = None) -> float | None:
        """A number parameter."""
        value = self.values.get(name)
        if value is None or value == "":
            return default
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f'field "{name}" must be a Number') from None

    def get_bool(self, name: str, default: bool = False) -> bool:
        """A boolean parameter ("true"/"1" and true all work)."""
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, int | float):
            return value != 0
        return str(value).strip().lower() in ("true", "1", "yes")

    def get_json(self, name: str, error: str | None = None) -> Any:
        """A JSON-serialized parameter (object or array), decoded; None when absent."""
        value = self.values.get(name)
        if value is None:
            return None
        if isinstance(value, str):
            if value == "":
                return None
            try:
                return json.loads(value)
            except ValueError:
                raise bad_request(error or f"can't parse {name} JSON object") from None
        return value

    def get_file(self, name: str) -> UploadedFile | str | None:
        """An InputFile: an uploaded part, a file_id/URL string, or attach://<part>."""
        if name in self.files:
            return self.files[name]
        value = self.get_str(name)
        if value and value.startswith("attach://"):
            part = self.files.get(value.removeprefix("attach://"))
            if part is None:
                raise bad_request(f'can\'t find attached file "{value}"')
            return part
        return value

    def loggable(self) -> dict[str, Any]:
        """Values with JSON strings decoded and files summarized, for request records."""
        out: dict[str, Any] = {}
        for key, value in self.values.items():
            out[key] = value
            if isinstance(value, str) and value[:1] in ("{", "["):
                with contextlib.suppress(ValueError):
                    out[key] = json.loads(value)
        for key, part in self.files.items():
            out[key] = {"filename": part.filename, "size": len(part.data)}
        return out


async def read_params(request: web.Request) -> Params:
    """Merge query string and body (JSON, urlencoded or multipart) into Params."""
    values: dict[str, Any] = dict(request.query)
    files: dict[str, UploadedFile] = {}
    if request.can_read_body:
        ctype = request.content_type
        if ctype == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise bad_request("can't parse JSON encoded request") from None
            if not isinstance(body, dict):
                raise bad_request("JSON object expected as request body")
            values.update(body)
        elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, FileField):
                    # aiohttp spools parts to temporary files: read and close them now,
                    # otherwise their finalizers raise ResourceWarning (an error in tests).
                    with value.file as handle:
                        files[key] = UploadedFile(value.filename, value.content_type, handle.read())
                else:
                    values[key] = value
    return Params(values, files)


__all__ = ["ApiError", "Params", "UploadedFile", "read_params"]
