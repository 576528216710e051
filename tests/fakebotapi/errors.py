"""Bot API errors, shaped exactly like the JSON bodies Telegram returns."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A failed Bot API call: HTTP status == error_code, plus a Telegram description."""

    def __init__(
        self, status: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> dict[str, Any]:
        """The JSON body Telegram sends for this error."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(message: str) -> ApiError:
    """400 with Telegram's 'Bad Request: ' prefix."""
    return ApiError(400, f"Bad Request: {message}")


def forbidden(message: str) -> ApiError:
    """403 with Telegram's 'Forbidden: ' prefix."""
    return ApiError(403, f"Forbidden: {message}")


def conflict(message: str) -> ApiError:
    """409 with Telegram's 'Conflict: ' prefix."""
    return ApiError(409, f"Conflict: {message}")


def too_many_requests(retry_after: int) -> ApiError:
    """429 carrying parameters.retry_after, which PTB turns into telegram.error.RetryAfter."""
    return ApiError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


def unauthorized() -> ApiError:
    """401 for a malformed or revoked token."""
    return ApiError(401, "Unauthorized")


def not_found() -> ApiError:
    """404 for an unknown method or path."""
    return ApiError(404, "Not Found")


def internal_error() -> ApiError:
    """500, as Telegram answers when it has a bad day."""
    return ApiError(500, "Internal Server Error")


BLOCKED = "bot was blocked by the user"
CHAT_NOT_FOUND = "chat not found"
