"""Signed, expiring session tokens for the simulated player and builder: compact JWTs (HS256).

A real Coassemble embed URL carries a JWT (its last path segment); the harness puts one in
`?token=` and signs it with a per-process secret, so a token outlives neither its `exp` nor the
process that minted it. Standard library only.
"""

import base64
import hashlib
import hmac
import json

HEADER = {"alg": "HS256", "typ": "JWT"}
MAX_TOKEN_CHARS = 4096


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text):
    return base64.urlsafe_b64decode((text + "=" * (-len(text) % 4)).encode("ascii"))


def sign(claims, secret):
    """The compact JWT for `claims` (a dict; `exp` in Unix seconds)."""
    signing_input = (
        _b64(json.dumps(HEADER, separators=(",", ":")).encode())
        + "."
        + _b64(json.dumps(claims, separators=(",", ":")).encode())
    )
    signature = hmac.new(secret, signing_input.encode("ascii"), hashlib.sha256).digest()
    return signing_input + "." + _b64(signature)


def verify(token, secret, now):
    """(claims, None) for a good token; (None, "missing" | "invalid") for none or a bad one;
    (claims, "expired") for a genuine token past its `exp`."""
    if not token:
        return None, "missing"
    if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS or not token.isascii() or token.count(".") != 2:
        return None, "invalid"
    signing_input, _, signature = token.rpartition(".")
    try:
        given = _unb64(signature)
        header = json.loads(_unb64(signing_input.split(".")[0]))
        claims = json.loads(_unb64(signing_input.split(".")[1]))
    except (ValueError, UnicodeError):
        return None, "invalid"
    expected = hmac.new(secret, signing_input.encode("ascii"), hashlib.sha256).digest()
    # Constant time, and the header is pinned: no "alg": "none" games.
    if not hmac.compare_digest(given, expected) or header != HEADER or not isinstance(claims, dict):
        return None, "invalid"
    exp = claims.get("exp")
    if not isinstance(exp, (int, float)) or isinstance(exp, bool):
        return None, "invalid"
    if now >= exp:
        return claims, "expired"
    return claims, None
