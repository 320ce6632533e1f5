"""Keep the integration key out of every line pendo-elt or a library prints."""

from __future__ import annotations

import logging

from sources.pendo.config import MIN_KEY_LENGTH

MASK = "***"


class RedactingFilter(logging.Filter):
    """Replace secrets in a log record's rendered message (and drop args that held them)."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        # A key shorter than MIN_KEY_LENGTH is refused before any request (it never reaches Pendo or a log), and
        # masking it would mangle every line holding the word ("pendo"): it is not masked.
        self.secrets = [s.strip() for s in secrets if s and len(s.strip()) >= MIN_KEY_LENGTH]

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def install(secrets: list[str]) -> RedactingFilter:
    """Attach the filter to every handler of the root logger and of dlt's logger."""
    redactor = RedactingFilter(secrets)
    for name in ("", "dlt", "pendo_elt"):
        logger = logging.getLogger(name)
        logger.addFilter(redactor)
        for handler in logger.handlers:
            handler.addFilter(redactor)
    return redactor
