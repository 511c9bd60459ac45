"""Coassemble's webhook deliveries, simulated: signed POSTs from a background thread, retried.

Headers and signature as Coassemble documents them (developers.coassemble.com/webhooks):
`X-Coassemble-Event`, `X-Coassemble-Delivery` (a UUID, the receiver's idempotency key),
`X-Coassemble-Timestamp` (Unix seconds), `X-Coassemble-Signature: sha256=<hex>` with
hex = HMAC-SHA256(secret, "<timestamp>.<raw body>").

A delivery is retried on a non-2xx answer or a connection error, with exponential backoff and a
bounded number of attempts. Every attempt carries the SAME delivery id and body, and a fresh
timestamp and signature: that is what makes a receiver's de-duplication matter.
"""

import hashlib
import hmac
import json
import logging
import threading
import time
import urllib.error
import urllib.request
import uuid

log = logging.getLogger("harness.webhooks")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # a redirect is an answer like any other non-2xx


_OPENER = urllib.request.build_opener(_NoRedirects)


def signature(secret, timestamp, raw_body):
    """`sha256=<hex>` of HMAC-SHA256(secret, "<timestamp>.<raw body>")."""
    message = str(timestamp).encode("ascii") + b"." + raw_body
    return "sha256=" + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


class WebhookSender:
    """Sends each event on its own daemon thread and keeps a record of every attempt.

    attempts   how many tries in all (>= 1)
    backoff_s  wait after the first failure; doubled after each further one
    timeout_s  per attempt
    clock      gives the X-Coassemble-Timestamp (Unix seconds)
    """

    def __init__(self, url, secret, attempts=6, backoff_s=1.0, timeout_s=10.0, clock=time.time, sleep=time.sleep):
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        self.url = url
        self._secret = secret
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.timeout_s = timeout_s
        self.clock = clock
        self.sleep = sleep
        self._lock = threading.Lock()
        self._records = []
        self._threads = []

    def send(self, event, body):
        """Queue `body` (a dict) as event `event`; returns the delivery id at once."""
        delivery = str(uuid.uuid4())
        raw = json.dumps(body, separators=(",", ":")).encode("utf-8")
        record = {
            "delivery": delivery,
            "event": event,
            "url": self.url,
            "state": "pending",
            "attempts": [],
            "body": body,
        }
        with self._lock:
            self._records.append(record)
        thread = threading.Thread(
            target=self._deliver, args=(record, raw), daemon=True, name="webhook-%s" % delivery[:8]
        )
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()
        return delivery

    def records(self):
        """A copy of every delivery so far: id, event, url, state, body, and each attempt's
        timestamp and answer (status, or the connection error's name)."""
        with self._lock:
            return json.loads(json.dumps(self._records))

    def wait(self, timeout_s):
        """Wait until no delivery is pending (tests); True when all have finished."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in threads)

    def _deliver(self, record, raw):
        for attempt in range(self.attempts):
            timestamp = int(self.clock())
            request = urllib.request.Request(
                self.url,
                data=raw,
                method="POST",
                headers={
                    "Content-Type": "application/json",
                    "User-Agent": "coursewire-harness-webhooks",
                    "X-Coassemble-Event": record["event"],
                    "X-Coassemble-Delivery": record["delivery"],
                    "X-Coassemble-Timestamp": str(timestamp),
                    "X-Coassemble-Signature": signature(self._secret, timestamp, raw),
                },
            )
            status, error = None, None
            try:
                with _OPENER.open(request, timeout=self.timeout_s) as response:
                    status = response.status
            except urllib.error.HTTPError as failure:
                status = failure.code
                failure.close()
            except Exception as failure:  # refused, reset, timed out, no such host...
                reason = getattr(failure, "reason", failure)
                error = type(reason).__name__
            with self._lock:
                record["attempts"].append({"timestamp": timestamp, "status": status, "error": error})
                if status is not None and 200 <= status < 300:
                    record["state"] = "delivered"
                    return
            if attempt + 1 < self.attempts:
                self.sleep(self.backoff_s * 2**attempt)
        with self._lock:
            record["state"] = "failed"
        log.info(
            "webhook %s %s gave up after %d attempts (last: %s)",
            record["event"],
            record["delivery"],
            self.attempts,
            status if status is not None else error,
        )
