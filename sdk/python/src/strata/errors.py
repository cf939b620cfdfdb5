"""Errors of the strata API, one class per kind of failure.

The server answers a failed call with ``{"error": {"kind", "message", "field"}}``; each
``kind`` maps to one class here, and the exception carries the server's message.
"""

from __future__ import annotations

from typing import Optional


class StrataError(Exception):
    """A call failed. ``kind`` and ``field`` are the server's; ``status`` its HTTP status."""

    def __init__(
        self,
        message: str,
        kind: str = "internal",
        field: Optional[str] = None,
        status: Optional[int] = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.field = field
        self.status = status


class InvalidInput(StrataError):
    """A value was refused; ``field`` names it."""


class NotFound(StrataError):
    """No such volume, snapshot, file or sandbox (or the volume was deleted while in use)."""


class Conflict(StrataError):
    """The call clashes with the current state (exists already, in use, not empty...)."""


class AlreadyExists(Conflict):
    """Something of that name exists already."""


class Unauthorized(StrataError):
    """No API key, or one the server does not know."""


class PermissionDenied(StrataError):
    """The key may not do this, the target is read-only, or a limit is reached."""


class QuotaExceeded(PermissionDenied):
    """The volume's quota of bytes or files would be passed."""


class Unavailable(StrataError):
    """The server, or a store behind it, cannot be reached."""


class InternalError(StrataError):
    """The server failed; its log says more."""


_BY_KIND = {
    "invalid_input": InvalidInput,
    "name_too_long": InvalidInput,
    "not_found": NotFound,
    "volume_gone": NotFound,
    "no_such_attribute": NotFound,
    "already_exists": AlreadyExists,
    "conflict": Conflict,
    "stale": Conflict,
    "locked": Conflict,
    "not_a_directory": Conflict,
    "is_a_directory": Conflict,
    "directory_not_empty": Conflict,
    "unauthorized": Unauthorized,
    "permission_denied": PermissionDenied,
    "read_only": PermissionDenied,
    "limit_exceeded": PermissionDenied,
    "quota_exceeded": QuotaExceeded,
    "too_large": InvalidInput,
    "unavailable": Unavailable,
    "internal": InternalError,
}


def from_body(status: int, body: bytes) -> StrataError:
    """The exception for a failed answer: its JSON error body, or the raw text."""
    import json

    try:
        error = json.loads(body)["error"]
        kind = str(error.get("kind", "internal"))
        cls = _BY_KIND.get(kind, StrataError)
        return cls(str(error.get("message", "")), kind, error.get("field"), status)
    except (ValueError, KeyError, TypeError, AttributeError):
        text = body.decode("utf-8", "replace")
        return InternalError(f"server answered {status}: {text}", "internal", None, status)
