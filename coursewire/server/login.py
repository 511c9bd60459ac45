"""Login tokens: who the learner is, as the host's own login says — never the page's body.

A login token is a JWT (RFC 7519) the host's backend issues with the secret it shares with this
server (settings.login_secret, COURSEWIRE_LOGIN_SECRET), and the page sends as
`Authorization: Bearer <token>` on POST /api/embed-url:

    header  {"alg": "HS256", "typ": "JWT"}
    claims  {"sub": "<learner id>", "aud": "coursewire", "exp": <Unix seconds, at most 24 h ahead>,
             "course": "<optional: only this course>", "name": "<optional>",
             "coursewire_edit": true   <optional: may open the course builder>}

Verified by PyJWT, never by hand: HS256 only (`alg: none` and every other algorithm are refused
before any signature is looked at), the signature, the audience, `exp` (required, not past, and
not more than MAX_LIFETIME_S ahead: a token is short-lived by design) and `sub` (a learner id as
`ids.learner_id` takes it). Every refusal is `LoginRefused`, one sentence that never repeats the
token or the secret.
"""

import time
import warnings

import jwt

from coursewire.server import ids

ALGORITHM = "HS256"
AUDIENCE = "coursewire"
EDIT_CLAIM = "coursewire_edit"
MAX_LIFETIME_S = 24 * 3600
MAX_TOKEN_CHARS = 4096  # a login token is a few hundred characters
MIN_SECRET_BYTES = 32  # HS256's own digest size: shorter secrets can be guessed offline
MAX_NAME_CHARS = 256


class LoginRefused(ValueError):
    """A login token that does not say who the learner is; str() is one sentence for the 401."""


class Login:
    """Who the host's login says the learner is: `learner` (an id), `edit` (may open the builder),
    `name` (optional display name), `course` (the only course the token is for, or None)."""

    __slots__ = ("learner", "edit", "name", "course")

    def __init__(
        self, learner: str, edit: bool = False, name: "str | None" = None, course: "str | None" = None
    ) -> None:
        self.learner = learner
        self.edit = edit
        self.name = name
        self.course = course

    def __repr__(self) -> str:
        return "Login(learner=%r, edit=%r, name=%r, course=%r)" % (self.learner, self.edit, self.name, self.course)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Login) and all(getattr(self, k) == getattr(other, k) for k in self.__slots__)


def check_secret(secret: "str | bytes | None", name: str = "COURSEWIRE_LOGIN_SECRET") -> bytes:
    """The secret as bytes, or ValueError (one sentence) when it is too short to be safe."""
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    if not isinstance(secret, bytes) or len(secret) < MIN_SECRET_BYTES:
        raise ValueError(
            "%s must be at least %d characters long (a random value, e.g. from "
            "`python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`)." % (name, MIN_SECRET_BYTES)
        )
    return secret


def issue_login_token(
    secret: "str | bytes",
    learner: str,
    ttl_s: float = 3600,
    course: "str | int | None" = None,
    name: "str | None" = None,
    edit: bool = False,
    now: "float | None" = None,
) -> str:
    """A login token for `learner`, valid `ttl_s` seconds from `now` (for Python hosts, the demo
    and tests). ValueError for a learner, course or lifetime the server would refuse."""
    key = check_secret(secret)
    now = time.time() if now is None else now
    if not 0 < ttl_s <= MAX_LIFETIME_S:
        raise ValueError("ttl_s must be above 0 and at most %d seconds." % MAX_LIFETIME_S)
    claims = {"sub": ids.learner_id(learner), "aud": AUDIENCE, "iat": int(now), "exp": int(now + ttl_s)}
    if course is not None:
        claims["course"] = ids.course_id(course)
    if name is not None:
        claims["name"] = _name(name)
    if edit:
        claims[EDIT_CLAIM] = True
    return jwt.encode(claims, key, algorithm=ALGORITHM)


def verify_login_token(token: str, secret: "str | bytes", now: "float | None" = None) -> Login:
    """The Login a token proves, or LoginRefused (one sentence)."""
    key = check_secret(secret)
    now = time.time() if now is None else now
    if not isinstance(token, str) or not token.strip():
        raise LoginRefused("Sign in first: the request carries no login token.")
    if len(token) > MAX_TOKEN_CHARS:
        raise LoginRefused("The login token is longer than %d characters." % MAX_TOKEN_CHARS)
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise LoginRefused("The login token is not a JWT.") from None
    if header.get("alg") != ALGORITHM:
        # Checked before anything else: `none` carries no signature, and RS/ES/PS tokens would
        # need a public key this server does not have.
        raise LoginRefused("The login token must be signed with HS256.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the key's length is checked above
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                # exp and nbf are checked below against `now`; iat is informative only.
                options={
                    "require": ["sub", "exp", "aud"],
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                    "strict_aud": True,
                },
            )
    except jwt.MissingRequiredClaimError as error:
        raise LoginRefused("The login token has no %s claim." % error.claim) from None
    except jwt.InvalidSignatureError:
        raise LoginRefused("The login token's signature does not match COURSEWIRE_LOGIN_SECRET.") from None
    except jwt.InvalidAudienceError:
        raise LoginRefused("The login token is not for Coursewire (its aud must be \"coursewire\").") from None
    except jwt.exceptions.InvalidSubjectError:
        raise LoginRefused("The login token's sub must be the learner's id as a string.") from None
    except (jwt.PyJWTError, ValueError, TypeError):
        raise LoginRefused("The login token is not valid.") from None
    return _login(claims, now)


def _login(claims: dict, now: float) -> Login:
    exp = claims.get("exp")
    if not isinstance(exp, (int, float)) or isinstance(exp, bool):
        raise LoginRefused("The login token's exp must be a time in Unix seconds.")
    if exp <= now:
        raise LoginRefused("The login token has expired: sign in again.")
    if exp > now + MAX_LIFETIME_S:
        raise LoginRefused("The login token lives more than 24 hours; issue short-lived tokens.")
    nbf = claims.get("nbf")
    if nbf is not None and (not isinstance(nbf, (int, float)) or isinstance(nbf, bool) or nbf > now):
        raise LoginRefused("The login token is not valid yet.")
    try:
        learner = ids.learner_id(claims["sub"], "The login token's sub")
        course = ids.course_id(claims["course"], "The login token's course") if "course" in claims else None
        name = _name(claims["name"]) if claims.get("name") is not None else None
    except ValueError as error:
        raise LoginRefused(str(error)) from None
    edit = claims.get(EDIT_CLAIM, False)
    if not isinstance(edit, bool):
        raise LoginRefused("The login token's %s must be true or false." % EDIT_CLAIM)
    return Login(learner, edit, name, course)


def _name(value: object) -> str:
    if not isinstance(value, str) or len(value) > MAX_NAME_CHARS or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("The login token's name must be text of at most %d characters." % MAX_NAME_CHARS)
    return value
