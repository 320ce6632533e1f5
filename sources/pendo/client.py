"""HTTP client for the Pendo API: auth header, retries with backoff and jitter, errors a user can act on.

A request and the complete reading of its body are one attempt: a body cut mid-stream is retried like a
503, and its partial rows never leave the attempt (they live in a :class:`RowSpool` that is discarded).
The integration key is only ever placed in a request header; no message, log line or exception built
here contains it.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import orjson
import requests
import urllib3.exceptions

from sources.pendo.deadline import DeadlineExceeded, DeadlineReader
from sources.pendo.errors import (
    PendoAuthError,
    PendoRequestError,
    PendoResponseError,
    PendoUnavailableError,
    WindowTimedOutError,
    WindowTooLargeError,
)
from sources.pendo.results_parser import MalformedBody, TruncatedBody, read_results
from sources.pendo.settings import DEFAULT_MAX_ATTEMPTS, DEFAULT_REQUEST_TIMEOUT_S
from sources.pendo.spool import RowSpool

logger = logging.getLogger("pendo_elt")

T = TypeVar("T")
API_PREFIX = "/api/v1"
MAX_RETRY_AFTER_S = 300.0
CONNECT_TIMEOUT_S = 15.0


class _Transient(Exception):
    """An attempt failed in a way worth retrying."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class PendoClient:
    def __init__(
        self,
        base_url: str,
        integration_key: str,
        *,
        timeout: float = DEFAULT_REQUEST_TIMEOUT_S,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        backoff_base: float = 1.0,
        backoff_max: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self._sleep = sleep
        self._headers = {
            "x-pendo-integration-key": integration_key,
            "content-type": "application/json",
            "accept": "application/json",
            "user-agent": "pendo-elt/0.1",
        }
        self._secret = integration_key
        self._local = threading.local()  # one connection pool per thread: windows are fetched concurrently
        self._sessions: list[requests.Session] = []
        self.requests_sent = 0

    @property
    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.headers.update(self._headers)
            self._sessions.append(session)
        return session

    # --- public calls ---------------------------------------------------------------------------
    def get_json(self, path: str, params: dict | None = None) -> Any:
        """GET a JSON document (object lists, metadata schema, one visitor)."""
        what = f"GET {API_PREFIX}{path}"

        def attempt() -> Any:
            started = time.monotonic()
            response = self._send("GET", path, what, params=params)
            with response:
                try:
                    return orjson.loads(DeadlineReader(response, self.timeout, started).read_all())
                except orjson.JSONDecodeError:
                    raise _Transient(f"{what} answered something that is not JSON") from None
                except DeadlineExceeded:
                    raise _Transient(_timed_out(what, self.timeout)) from None
                except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
                    raise _Transient(f"{what} body was cut: {type(exc).__name__}") from None

        return self._retrying(what, attempt)

    def aggregate(self, body: dict, label: str, *, splittable: bool = False) -> RowSpool:
        """POST one aggregation and return its complete result rows.

        ``splittable`` marks a time-windowed query that the caller can split: a memory-limit refusal,
        408 or read timeout then raises :class:`WindowTooLargeError` at once instead of retrying.
        """
        what = f"POST {API_PREFIX}/aggregation ({label})"

        def attempt() -> RowSpool:
            started = time.monotonic()
            response = self._send("POST", "/aggregation", what, json_body=body, splittable=splittable)
            spool = RowSpool()
            try:
                with response:
                    rows = read_results(DeadlineReader(response, self.timeout, started))
                    if isinstance(rows, list):
                        spool = RowSpool.holding(rows)
                    else:
                        for row in rows:
                            spool.append(row)
            except TruncatedBody as exc:
                spool.close()
                raise _Transient(f"{what} body was cut: {exc}") from None
            except MalformedBody as exc:
                spool.close()
                raise _Transient(f"{what} answered an unexpected body: {exc}") from None
            except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
                spool.close()
                if _is_timeout(exc):
                    reason = _timed_out(what, self.timeout)
                    if splittable:
                        raise WindowTimedOutError(reason) from None
                    raise _Transient(reason) from None
                raise _Transient(f"{what} body was cut: {type(exc).__name__}") from None
            return spool

        return self._retrying(what, attempt)

    def close(self) -> None:
        for session in self._sessions:
            session.close()

    # --- mechanics ------------------------------------------------------------------------------
    def _send(
        self,
        method: str,
        path: str,
        what: str,
        *,
        params: dict | None = None,
        json_body: dict | None = None,
        splittable: bool = False,
    ) -> requests.Response:
        self.requests_sent += 1
        try:
            response = self._session.request(
                method,
                f"{self.base_url}{API_PREFIX}{path}",
                params=params,
                data=orjson.dumps(json_body) if json_body is not None else None,
                timeout=(CONNECT_TIMEOUT_S, self.timeout),
                stream=True,
                allow_redirects=False,  # requests re-sends custom headers, the key among them, to any new host
            )
        except requests.exceptions.ConnectTimeout:
            raise _Transient(f"{what}: could not connect to {self.base_url} in time") from None
        except requests.exceptions.ConnectionError as exc:
            if splittable and _is_timeout(exc):
                raise WindowTimedOutError(_timed_out(what, self.timeout)) from None
            raise _Transient(f"{what}: cannot reach {self.base_url} ({_short(exc)})") from None
        except requests.exceptions.Timeout:
            if splittable:
                raise WindowTimedOutError(_timed_out(what, self.timeout)) from None
            raise _Transient(_timed_out(what, self.timeout)) from None
        status = response.status_code
        if 300 <= status < 400:
            location = response.headers.get("location", "?")
            response.close()
            raise PendoRequestError(
                f"{what} was redirected (HTTP {status}) to {_mask(location, self._secret)}; the key is not sent to "
                "another address: set sources.pendo.base_url (or region) to the final host"
            )
        if status < 400:
            return response
        text = _mask(_body_text(response), self._secret)  # proxies and WAFs echo request headers
        response.close()
        if status in (401, 403):
            write = (", or lacks \"Allow Write Access\" (the aggregation endpoint needs it; `pendo-elt check` "
                     "tells which)") if path == "/aggregation" else ""
            raise PendoAuthError(
                f"{what} was refused (HTTP {status}): the integration key is wrong, or belongs to another "
                f"region than {self.base_url}{write}; check sources.pendo.integration_key and sources.pendo.region"
            )
        if splittable and (status == 408 or "memory limit" in text.lower()):
            raise WindowTooLargeError(f"{what}: HTTP {status} {text or 'Request Timeout'}")
        if status == 429 or status == 408 or status >= 500:
            raise _Transient(f"{what}: HTTP {status} {text}".strip(), _retry_after(response))
        raise PendoRequestError(f"{what} was rejected (HTTP {status}): {text or 'no reason given'}")

    def _retrying(self, what: str, attempt: Callable[[], T]) -> T:
        last: _Transient | None = None
        for number in range(1, self.max_attempts + 1):
            try:
                return attempt()
            except _Transient as exc:
                last = exc
                if number == self.max_attempts:
                    break
                delay = self._delay(number, exc.retry_after)
                logger.warning("%s; retry %d/%d in %.1fs", exc.reason, number, self.max_attempts - 1, delay)
                self._sleep(delay)
        assert last is not None
        if "unexpected body" in last.reason or "not JSON" in last.reason:
            raise PendoResponseError(f"{last.reason} (after {self.max_attempts} attempts)")
        raise PendoUnavailableError(f"{last.reason} (gave up after {self.max_attempts} attempts; try again later)")

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), MAX_RETRY_AFTER_S)
        ceiling = min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)  # "equal jitter": spread clients, keep a floor


def _timed_out(what: str, seconds: float) -> str:
    return f"{what} timed out after {seconds:g}s (sources.pendo.request_timeout bounds each whole answer)"


def _mask(text: str, secret: str) -> str:
    return text.replace(secret, "***") if secret else text


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def _body_text(response: requests.Response, limit: int = 300) -> str:
    try:
        text = response.content.decode("utf-8", errors="replace")
    except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError):
        return ""
    text = " ".join(text.split())
    return text[:limit] + ("..." if len(text) > limit else "")


def _is_timeout(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, requests.exceptions.Timeout | urllib3.exceptions.ReadTimeoutError | TimeoutError):
            return True
        current = current.__cause__ or current.__context__ or (current.args[0] if current.args and
                                                                isinstance(current.args[0], BaseException) else None)
    return False


def _short(exc: BaseException) -> str:
    text = str(exc)
    if "Connection refused" in text:
        return "connection refused"
    if "Name or service not known" in text or "nodename nor servname" in text or "Failed to resolve" in text:
        return "host name not found"
    return type(exc).__name__
