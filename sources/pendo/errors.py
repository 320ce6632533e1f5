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

    def at_smallest_window(self) -> PendoError:
        """The error to report when even a one-hour window was refused (nothing smaller can be asked)."""
        return WindowTooLargeError(f"{self}; even a one-hour window is too large for Pendo - lower the load on this "
                                   "source or contact Pendo support")


class WindowTimedOutError(WindowTooLargeError):
    """A window's answer did not arrive within ``request_timeout``: split like a refusal, reported as a timeout."""

    def at_smallest_window(self) -> PendoError:
        return PendoUnavailableError(f"{self}, even for a one-hour window: raise sources.pendo.request_timeout "
                                     "(env SOURCES__PENDO__REQUEST_TIMEOUT) or try again later")
