"""Errors a user can cause or act on. Each carries a one-line message; the CLI maps them to exit codes."""

from __future__ import annotations


class PendoError(Exception):
    """Base of every error pendo-elt reports to a user in one line."""

    exit_code = 1


class ConfigError(PendoError):
    """A configuration value is missing or invalid; nothing was requested or loaded."""

    exit_code = 2


class PendoAuthError(PendoError):
    """Pendo refused the integration key (wrong key, or a key of another region): a configuration error."""

    exit_code = 2


class PendoRequestError(PendoError):
    """Pendo rejected a request as invalid (HTTP 400 and other non-retryable answers)."""


class PendoUnavailableError(PendoError):
    """Pendo kept failing (429, 5xx, timeouts, cut bodies) after every retry."""


class PendoResponseError(PendoError):
    """Pendo answered 200 with something that is not the JSON we expect."""


class WindowTooLargeError(PendoError):
    """Pendo refused a time window as too large ("Query exceeded memory limit", 408, timeout)."""
