"""Users, login and role checks.

Roles: ``planner`` (kommun safety unit: everything), ``reader`` (reads the planner map,
actions and meetings), ``patrol`` (trygghetsvärd), ``reporter`` (EST reporting actor).
Passwords are hashed with Argon2 (argon2-cffi). Users are stored in the ``users`` table
(:mod:`geo.store.tables`, migration ``webmap_0001``).

Protecting a view
-----------------
Decorate every non-public view with :func:`role_required`::

    from webmap.auth.views import role_required

    @bp.get("/patrull")
    @role_required("patrol")          # planners are always allowed too
    def patrol_home(): ...

    @bp.get("/konto")
    @role_required()                  # any logged-in user
    def account(): ...

The decorator records ``view.allowed_roles``; the app refuses (403) any endpoint that is
neither decorated nor listed in its module's ``PUBLIC_ENDPOINTS`` (see
:mod:`webmap.app`). Anonymous users are redirected to the login page (HTML) or get
401 JSON (paths under ``/api/``). :meth:`User.can_access` tells whether a user may see
a kommun (an empty kommun list means every kommun).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar, cast
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import LoginManager, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from geo.errors import NotFoundError, ValidationError
from geo.store import users as store
from geo.store.tables import ROLES
from webmap.state import current_state, get_engine

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.engine import Connection

F = TypeVar("F", bound=Callable[..., Any])

#: Endpoints of this module reachable without login.
PUBLIC_ENDPOINTS = ("auth.login", "auth.login_alias")
#: Login attempts per client key (privacy-safe hash of the address).
RATE_LIMITS = {"auth.login": ("10/minute", ["POST"])}
#: Failed logins per account name from any address (``LOGIN_ACCOUNT_RATE_LIMIT``).
#: Counted for every name tried, existing or not, so the answer reveals no account.
ACCOUNT_RATE_LIMIT = "10/15 minutes"
#: Session key holding the generation (``users.session_epoch``) the session was opened in.
SESSION_EPOCH_KEY = "_epoch"

#: Where each role lands after login (a path; other areas may extend their own role).
HOME_BY_ROLE: Mapping[str, str] = MappingProxyType(
    {
        "planner": "/karta",
        "reader": "/karta",
        "reporter": "/rapport/ny",
        "patrol": "/patrull",
    }
)

#: Swedish names of the roles.
ROLE_LABELS_SV: dict[str, str] = {
    "planner": "Planerare",
    "reader": "Läsare",
    "patrol": "Trygghetsvärd",
    "reporter": "Rapportör",
}

MIN_PASSWORD_LENGTH = 8

bp = Blueprint("auth", __name__)


def _hasher() -> PasswordHasher:
    return PasswordHasher()


def hash_password(password: str) -> str:
    """Argon2id hash of ``password``."""
    return _hasher().hash(password)


@dataclass(frozen=True)
class User:
    """A logged-in (or loadable) user; implements Flask-Login's user protocol."""

    id: int
    username: str
    role: str
    kommuner: tuple[str, ...] = ()
    reporter_org: str | None = None
    active: bool = True
    created_at: dt.datetime | None = None
    last_login: dt.datetime | None = None
    session_epoch: int = 0
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)

    # roles
    def has_role(self, *roles: str) -> bool:
        """True for planners and for the given roles."""
        return self.role == "planner" or self.role in roles

    def can_access(self, kommun: str) -> bool:
        """Whether the user may see data of ``kommun`` (empty list = every kommun)."""
        return not self.kommuner or kommun in self.kommuner

    @property
    def role_label(self) -> str:
        return ROLE_LABELS_SV.get(self.role, self.role)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly description (no password hash)."""
        return {
            "id": self.id,
            "username": self.username,
            "role": self.role,
            "kommuner": list(self.kommuner),
            "reporter_org": self.reporter_org,
            "active": self.active,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "last_login": self.last_login.isoformat() if self.last_login else None,
        }


def _row_to_user(row: Mapping[str, Any]) -> User:
    return User(
        id=int(row["id"]),
        username=row["username"],
        role=row["role"],
        kommuner=tuple(row["kommuner"] or ()),
        reporter_org=row["reporter_org"],
        active=bool(row["active"]),
        created_at=row["created_at"],
        last_login=row["last_login"],
        session_epoch=int(row["session_epoch"] or 0),
    )


# --------------------------------------------------------------------------- store


def create_user(
    conn: Connection,
    username: str,
    password: str,
    role: str,
    kommuner: Iterable[str] = (),
    reporter_org: str | None = None,
) -> User:
    """Create a user; raise :class:`ValidationError` listing every problem."""
    problems = []
    username = (username or "").strip()
    if not username or len(username) > 100 or any(c.isspace() for c in username):
        problems.append("användarnamnet måste vara 1-100 tecken utan mellanslag")
    if role not in ROLES:
        problems.append(f"okänd roll {role!r}; giltiga: {', '.join(ROLES)}")
    if len(password or "") < MIN_PASSWORD_LENGTH:
        problems.append(f"lösenordet måste ha minst {MIN_PASSWORD_LENGTH} tecken")
    if role == "reporter" and not reporter_org:
        problems.append("en rapportör behöver en organisation (--org)")
    if username and find_user(conn, username) is not None:
        problems.append(f"användaren {username!r} finns redan")
    if problems:
        raise ValidationError(problems, context="användare")
    store.insert_user(conn, username, hash_password(password), role, kommuner, reporter_org)
    user = find_user(conn, username)
    assert user is not None
    return user


def find_user(conn: Connection, username: str) -> User | None:
    """User by name, or None."""
    row = store.user_by_name(conn, username)
    return None if row is None else _row_to_user(row)


def get_user_by_id(conn: Connection, user_id: int) -> User | None:
    """User by id, or None."""
    row = store.user_by_id(conn, user_id)
    return None if row is None else _row_to_user(row)


def list_users(conn: Connection) -> list[User]:
    """All users, by name."""
    return [_row_to_user(r) for r in store.all_users(conn)]


def revoke_sessions(conn: Connection, user_id: int) -> None:
    """End every session of a user at once (raises the session generation)."""
    store.end_sessions(conn, user_id=user_id)


def set_active(conn: Connection, username: str, active: bool) -> User:
    """Enable or disable a user; either ends every session of the user at once."""
    if not store.update_user(conn, username, active=active, end_sessions=True):
        raise NotFoundError(f"användaren {username!r} finns inte")
    user = find_user(conn, username)
    assert user is not None
    return user


def set_password(conn: Connection, username: str, password: str) -> None:
    """Replace a user's password (every session of the user ends)."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ValidationError(f"lösenordet måste ha minst {MIN_PASSWORD_LENGTH} tecken")
    if not store.update_user(
        conn, username, password_hash=hash_password(password), end_sessions=True
    ):
        raise NotFoundError(f"användaren {username!r} finns inte")


@functools.cache
def _dummy_hash() -> str:
    """Hash verified when the user does not exist, so both paths take the same time."""
    return hash_password("ingen-sådan-användare")


def authenticate(engine: Engine, username: str, password: str) -> User | None:
    """The active user with these credentials (last login updated), else None."""
    hasher = _hasher()
    with engine.begin() as conn:
        row = store.user_by_name(conn, username)
        if row is None:
            with contextlib.suppress(VerificationError, InvalidHashError):
                hasher.verify(_dummy_hash(), password)
            return None
        try:
            hasher.verify(row["password_hash"], password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if not row["active"]:
            return None
        rehash = hasher.check_needs_rehash(row["password_hash"])
        store.record_login(conn, int(row["id"]), hasher.hash(password) if rehash else None)
    return _row_to_user(row)


# --------------------------------------------------------------------------- Flask


def init_login(app: Flask) -> LoginManager:
    """Attach Flask-Login to ``app`` (users loaded from the app's database)."""
    manager = LoginManager()
    manager.login_view = "auth.login"
    manager.login_message = "Logga in för att se sidan."
    manager.login_message_category = "info"
    manager.session_protection = "basic"

    @manager.user_loader
    def _load(user_id: str) -> User | None:
        try:
            uid = int(user_id)
        except ValueError:
            return None
        with get_engine().connect() as conn:
            user = get_user_by_id(conn, uid)
        if user is None or not user.active:
            return None
        # a session of an older generation was ended by logout, password change or disable
        return user if session.get(SESSION_EPOCH_KEY) == user.session_epoch else None

    @manager.unauthorized_handler
    def _unauthorized() -> Any:
        if request.path.startswith("/api/") or request.accept_mimetypes.best == (
            "application/json"
        ):
            return jsonify({"error": "Du behöver logga in."}), 401
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))

    manager.init_app(app)
    return manager


def role_required(*roles: str) -> Callable[[F], F]:
    """Allow logged-in users with one of ``roles`` (planners always; none = any role)."""
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise ValueError(f"unknown roles {unknown}")
    allowed = tuple(r for r in ROLES if r in roles or r == "planner") if roles else ROLES

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        wrapper.allowed_roles = allowed  # type: ignore[attr-defined]
        return cast(F, wrapper)

    return decorate


def require_kommun_access(kommun: str) -> None:
    """Abort 403 when the current user may not see ``kommun``."""
    if not current_user.is_authenticated or not current_user.can_access(kommun):
        abort(403)


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a local path (no open redirect), else None."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return None  # no header injection (CR/LF) and no control characters
    return target


def _account_limit() -> tuple[Any, str] | None:
    """(limit item, key prefix) of the per-account login limit, or None when off."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return None
    from limits import parse

    spec = str(current_app.config.get("LOGIN_ACCOUNT_RATE_LIMIT") or ACCOUNT_RATE_LIMIT)
    return parse(spec), "login-account"


def _account_key(username: str) -> str:
    # the name is hashed: the limiter's storage never holds account names
    return hashlib.sha256(username.strip().casefold().encode("utf-8", "replace")).hexdigest()


def account_attempts_left(username: str) -> bool:
    """Whether the account name may still be tried (failed logins under the limit)."""
    limit = _account_limit()
    if limit is None:
        return True
    item, prefix = limit
    return bool(current_state().limiter.limiter.test(item, prefix, _account_key(username)))


def count_failed_login(username: str) -> None:
    """Count a failed login against the account name (existing or not)."""
    limit = _account_limit()
    if limit is not None:
        item, prefix = limit
        current_state().limiter.limiter.hit(item, prefix, _account_key(username))


class LoginForm(FlaskForm):
    """The login form; read from the form body only (a JSON body is not a login)."""

    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form: Any, formdata: Any) -> Any:
            # Flask-WTF would read a JSON body as form data and fail on lists or numbers
            if request.is_json:
                return request.form
            return super().wrap_formdata(form, formdata)

    username = StringField("Användarnamn", validators=[DataRequired(), Length(max=100)])
    password = PasswordField("Lösenord", validators=[DataRequired(), Length(max=1000)])


@bp.get("/login")
def login_alias() -> Any:
    """``/login`` (the usual English address) leads to ``/logga-in``."""
    query: dict[str, Any] = request.args.to_dict()
    return redirect(url_for("auth.login", **query), code=301)


@bp.route("/logga-in", methods=["GET", "POST"])
def login() -> Any:
    """Login page (Swedish)."""
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        name = form.username.data or ""
        if not account_attempts_left(name):
            error = "För många inloggningsförsök. Vänta en stund och försök igen."
            return render_template("auth/login.html", form=form, error=error), 429
        user = authenticate(current_state().engine, name, form.password.data or "")
        if user is not None:
            lang = session.get("lang")
            session.clear()
            if lang:
                session["lang"] = lang
            login_user(user)
            session[SESSION_EPOCH_KEY] = user.session_epoch
            target = safe_next(request.args.get("next")) or HOME_BY_ROLE.get(user.role, "/")
            return redirect(target)
        count_failed_login(name)
        error = "Fel användarnamn eller lösenord."
    elif request.method == "POST":
        error = "Fyll i användarnamn och lösenord."
    status = 401 if error and request.method == "POST" else 200
    return render_template("auth/login.html", form=form, error=error), status


@bp.post("/logga-ut")
@role_required()
def logout() -> Any:
    """Log out (POST with CSRF token): every session of the user ends, not only this one."""
    with current_state().engine.begin() as conn:
        revoke_sessions(conn, int(current_user.id))
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash("Du är utloggad.", "info")
    return redirect(url_for("public.index"))
