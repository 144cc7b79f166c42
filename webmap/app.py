"""The Flask app factory of lagesbild.

``create_app(config)`` opens the database (applying every Alembic branch), keeps the
engine and other per-app objects in ``app.extensions["lagesbild"]`` (an
:class:`webmap.state.AppState`; views use :func:`webmap.state.get_engine`), and wires
CSRF (Flask-WTF), login (Flask-Login), rate limits (Flask-Limiter, keyed by
:func:`webmap.privacy.client_key`), Swedish/English UI (Flask-Babel), secure cookies,
security headers (a strict Content-Security-Policy with a per-request script nonce)
and the self-hosted static assets (Leaflet from ``xstatic-leaflet`` under
``/static/vendor/leaflet/``; everything else under ``webmap/static/``; no CDN).

Adding a blueprint
------------------
Each area has its own module with a :class:`flask.Blueprint` named ``bp``; add
``"package.module:bp"`` to :data:`BLUEPRINTS` (one line). The module may also define

``PUBLIC_ENDPOINTS``
    iterable of endpoint names (``"citizen.report_form"``) reachable without login.
    Every other endpoint must be protected with :func:`webmap.auth.views.role_required`;
    a request to an endpoint that is neither public nor protected is refused (403),
    and ``tests/webmap/test_access.py`` checks every route in ``app.url_map``.
``RATE_LIMITS``
    mapping endpoint -> ``"10/minute"`` or ``("10/minute", ["POST"])``; applied with
    the app's limiter and the privacy-safe client key.
``CSRF_EXEMPT``
    iterable of endpoint names exempt from CSRF (only for token-authenticated APIs
    such as Open311 ``POST requests.json``).
``NAV``
    menu entries ``(endpoint, "Swedish label", ("role", ...))`` shown to logged-in
    users with one of the roles (planners see every entry).

Templates extend ``base.html`` (blocks ``title``, ``head``, ``content``, ``scripts``);
inline scripts must carry ``nonce="{{ csp_nonce() }}"``. User text reaches HTML only
through Jinja autoescaping and JavaScript only through ``|tojson`` or JSON APIs
rendered with ``textContent``.
"""

from __future__ import annotations

import importlib
import os
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from flask import (
    Flask,
    Response,
    g,
    has_request_context,
    jsonify,
    render_template,
    request,
    send_from_directory,
    session,
)
from flask_babel import Babel, get_translations
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

if TYPE_CHECKING:
    from sqlalchemy import Engine

import webmap.ratelimit_storage  # noqa: F401  (registers the lagesbild-memory:// scheme)
from webmap.config import Config, load_config
from webmap.db import open_database
from webmap.payloads import PayloadCache
from webmap.privacy import client_key
from webmap.render.maps import resolve_tiles
from webmap.state import EXTENSION_KEY, AppState, SharedGazetteer

#: Blueprints of every area, as ``"module:attribute"`` (see the module docstring).
BLUEPRINTS: tuple[str, ...] = (
    "webmap.auth.views:bp",
    "webmap.public.data:bp",
    "webmap.planner.map_page:bp",
    "webmap.planner.mapdata:bp",
    "webmap.planner.action_pages:bp",
    "webmap.planner.meeting:bp",
    "webmap.planner.exports:bp",
    "webmap.planner.reporting:bp",
    "webmap.citizen.pages:bp",
    "webmap.citizen.mine:bp",
    "webmap.public.map_page:bp",
    "webmap.planner.moderation:bp",
    "webmap.api.views:bp",
    "webmap.open311.views:bp",
    "webmap.patrol.views:bp",
)

#: Endpoints of the app itself that need no login.
CORE_PUBLIC_ENDPOINTS: frozenset[str] = frozenset(
    {"static", "vendor_leaflet", "set_language", "healthz"}
)

#: Languages of the UI; the first is the default.
LANGUAGES: tuple[str, ...] = ("sv", "en")


def _leaflet_dir() -> Path:
    import xstatic.pkg.leaflet as xleaflet

    return Path(xleaflet.BASE_DIR)


def _secret_key(instance_dir: Path) -> str:
    """Read ``instance/secret_key`` or create it once (0600)."""
    path = instance_dir / "secret_key"
    if path.exists():
        key = path.read_text(encoding="utf-8").strip()
        if key:
            return key
    instance_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    tmp = instance_dir / f".secret_key.{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(key + "\n")
    try:
        # atomic: when several server processes start at once, the first key wins
        os.link(tmp, path)
    except FileExistsError:
        key = path.read_text(encoding="utf-8").strip() or key
    finally:
        tmp.unlink(missing_ok=True)
    return key


def tile_origin(template: str) -> str:
    """CSP source for a tile URL template (``{s}`` subdomains become a wildcard).

    >>> tile_origin("https://{s}.tile.example.org/{z}/{x}/{y}.png")
    'https://*.tile.example.org'
    """
    if not template:
        return ""
    parts = urlsplit(template.replace("{s}", "a-subdomain-wildcard"))
    host = (parts.hostname or "").replace("a-subdomain-wildcard", "*")
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}" if host else ""


def content_security_policy(nonce: str, tiles: str) -> str:
    """The Content-Security-Policy header value: only the app itself (and the tile host)."""
    img = ["'self'", "data:"]
    origin = tile_origin(tiles)
    if origin:
        img.append(origin)
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            "style-src 'self' 'unsafe-inline'",
            "img-src " + " ".join(img),
            "connect-src 'self'",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def _request_translations() -> Any:
    """The request's translations, looked up once per request (Flask-Babel's own lookup
    goes through several context proxies on every string a template translates)."""
    if not has_request_context():
        return get_translations()
    translations = g.get("_translations")
    if translations is None:
        translations = g._translations = get_translations()
    return translations


def _install_request_gettext(app: Flask) -> None:
    """Templates translate through :func:`_request_translations` (same strings, same
    locale; a page with a few hundred translated strings renders about a third faster)."""
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: _request_translations().ugettext(s),
        ngettext=lambda s, p, n: _request_translations().ungettext(s, p, n),
        pgettext=lambda c, s: _request_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _request_translations().unpgettext(c, s, p, n),
        newstyle=True,
    )


def _split(target: str) -> tuple[str, str]:
    module, _, attr = target.partition(":")
    return module, attr or "bp"


def _endpoint_names(values: Iterable[str] | None) -> set[str]:
    return {str(v) for v in (values or ())}


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the web app for ``config`` (default: :func:`webmap.config.load_config`).

    Parameters
    ----------
    config
        Settings (upper-case keys); missing keys take the defaults of
        :class:`webmap.config.Config`.

    Returns
    -------
    flask.Flask
    """
    cfg = load_config(Config)
    if config:
        cfg.update(config)
    instance_dir = Path(cfg.get("INSTANCE_DIR") or Path.cwd() / "instance")
    instance_dir.mkdir(parents=True, exist_ok=True)
    if not cfg.get("SECRET_KEY"):
        cfg["SECRET_KEY"] = _secret_key(instance_dir)

    app = Flask(
        __name__,
        root_path=str(Path(__file__).resolve().parent),
        instance_path=str(instance_dir.resolve()),
        static_folder="static",
        template_folder="templates",
    )
    app.config.update(cfg)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)
    app.config.setdefault("PERMANENT_SESSION_LIFETIME", 8 * 3600)

    engine = open_database(cfg)
    csrf = CSRFProtect(app)
    limiter = Limiter(
        key_func=client_key,
        app=app,
        default_limits=[],
        storage_uri=cfg.get("RATELIMIT_STORAGE_URI", "lagesbild-memory://"),
        enabled=bool(cfg.get("RATELIMIT_ENABLED", True)),
    )
    state = _app_state(engine, cfg, instance_dir, limiter)
    app.extensions[EXTENSION_KEY] = state

    def select_locale() -> str:
        lang = session.get("lang")
        return lang if lang in LANGUAGES else LANGUAGES[0]

    Babel(
        app,
        locale_selector=select_locale,
        default_locale=LANGUAGES[0],
        default_timezone=cfg.get("BABEL_DEFAULT_TIMEZONE", "Europe/Stockholm"),
    )
    _install_request_gettext(app)

    from webmap.auth.views import init_login

    init_login(app)

    state.public_endpoints.update(CORE_PUBLIC_ENDPOINTS)
    pending_limits: list[tuple[str, Any]] = []
    for target in BLUEPRINTS:
        module_name, attr = _split(target)
        module = importlib.import_module(module_name)
        app.register_blueprint(getattr(module, attr))
        state.public_endpoints.update(_endpoint_names(getattr(module, "PUBLIC_ENDPOINTS", None)))
        pending_limits.extend(dict(getattr(module, "RATE_LIMITS", {}) or {}).items())
        state.nav.extend(getattr(module, "NAV", ()) or ())
        for endpoint in _endpoint_names(getattr(module, "CSRF_EXEMPT", None)):
            pending_csrf = app.view_functions.get(endpoint)
            if pending_csrf is not None:
                csrf.exempt(pending_csrf)
    for endpoint, spec in pending_limits:
        limit, methods = (spec, None) if isinstance(spec, str) else (spec[0], list(spec[1]))
        view = app.view_functions[endpoint]
        wrapped = state.limiter.limit(limit, methods=methods)(view)
        for name in ("allowed_roles",):
            if hasattr(view, name):
                setattr(wrapped, name, getattr(view, name))
        app.view_functions[endpoint] = wrapped

    _register_core_routes(app)
    _register_security(app, state)
    _register_errors(app)
    from webmap.public.replay import install

    install(app, pending_limits)  # anonymous public GETs answered from recorded answers
    return app


def _app_state(
    engine: Engine, cfg: dict[str, Any], instance_dir: Path, limiter: Limiter
) -> AppState:
    """The app's state with every per-app object built once, here (not in a request)."""
    from webmap.citizen.runtime import CitizenRuntime
    from webmap.patrol.plan import PatrolRuntime
    from webmap.public.map_page import PublicCache
    from webmap.results import ResultStore

    gazetteer = SharedGazetteer()
    return AppState(
        engine=engine,
        config=cfg,
        instance_dir=instance_dir,
        default_kommun=str(cfg.get("DEFAULT_KOMMUN") or Config.DEFAULT_KOMMUN),
        limiter=limiter,
        results=ResultStore(engine, instance_dir / "cache" / "analysis"),
        citizen=CitizenRuntime.open(engine, cfg, gazetteer.get),
        patrol=PatrolRuntime(gazetteer=gazetteer.get),
        public_cache=PublicCache(),
        payloads=PayloadCache(instance_dir / "cache" / "payloads"),
        gazetteer=gazetteer,
    )


def _register_core_routes(app: Flask) -> None:
    leaflet_dir = _leaflet_dir()

    @app.get("/static/vendor/leaflet/<path:filename>", endpoint="vendor_leaflet")
    def vendor_leaflet(filename: str) -> Response:
        return send_from_directory(leaflet_dir, filename, max_age=86400)

    @app.get("/sprak/<lang>", endpoint="set_language")
    def set_language(lang: str) -> Response:
        from flask import redirect, url_for

        if lang in LANGUAGES:
            session["lang"] = lang
        target = request.referrer or url_for("public.index")
        # only same-site redirects
        if urlsplit(target).netloc not in ("", request.host):
            target = url_for("public.index")
        return redirect(target)  # type: ignore[return-value]

    @app.get("/healthz", endpoint="healthz")
    def healthz() -> Response:
        return jsonify({"status": "ok"})


def _register_security(app: Flask, state: AppState) -> None:
    @app.before_request
    def _nonce_and_guard() -> Response | None:
        g.csp_nonce = secrets.token_urlsafe(16)
        endpoint = request.endpoint
        if endpoint is None or endpoint in state.public_endpoints:
            return None
        view = app.view_functions.get(endpoint)
        if view is not None and hasattr(view, "allowed_roles"):
            return None  # role_required checks login and role
        # neither public nor protected: refuse (safe default for forgotten decorators)
        from flask import abort

        abort(403)
        return None

    @app.context_processor
    def _template_helpers() -> dict[str, Any]:
        return {
            "csp_nonce": lambda: getattr(g, "csp_nonce", ""),
            "languages": LANGUAGES,
            "nav_items": lambda: _nav_items(state),
        }

    @app.after_request
    def _headers(response: Response) -> Response:
        nonce = getattr(g, "csp_nonce", "") or secrets.token_urlsafe(16)
        tiles = resolve_tiles(str(app.config.get("TILES") or ""))[0]
        h = response.headers
        h.setdefault("Content-Security-Policy", content_security_policy(nonce, tiles))
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Referrer-Policy", "same-origin")
        h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        h.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(self)")
        if app.config.get("SESSION_COOKIE_SECURE"):
            h.setdefault("Strict-Transport-Security", "max-age=31536000")
        if request.endpoint not in ("static", "vendor_leaflet"):
            h.setdefault("Cache-Control", "no-store")
        return response


def _nav_items(state: AppState) -> list[dict[str, Any]]:
    from flask import url_for
    from flask_babel import gettext
    from flask_login import current_user

    if not current_user.is_authenticated:
        return []
    items = []
    for endpoint, label, roles in state.nav:
        if current_user.role != "planner" and current_user.role not in roles:
            continue
        url = url_for(endpoint)
        items.append({"url": url, "label": gettext(label), "active": request.path.startswith(url)})
    return items


def _register_errors(app: Flask) -> None:
    messages = {
        400: "Felaktig begäran.",
        401: "Du behöver logga in.",
        403: "Du saknar behörighet till den här sidan.",
        404: "Sidan finns inte.",
        405: "Metoden stöds inte.",
        413: "Begäran är för stor.",
        429: "För många försök. Vänta en stund och försök igen.",
        500: "Ett internt fel uppstod.",
    }

    from webmap.errors import register_error_handlers, wants_json

    register_error_handlers(app)

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> tuple[Any, int]:
        text = "Formuläret har gått ut eller saknar säkerhetstoken. Ladda om sidan."
        if wants_json():
            return jsonify({"error": text}), 400
        return render_template("error.html", code=400, message=text), 400

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Any:
        code = exc.code or 500
        if code < 400:
            return exc
        # A description given at ``abort(code, description=...)`` is a Swedish reason
        # written for the user; werkzeug's English class default is replaced.
        # Flask-Limiter describes the limit in English ("120 per 1 minute"): the
        # Swedish text is used instead.
        custom = (
            not isinstance(exc, RateLimitExceeded)
            and exc.description
            and exc.description != type(exc).description
        )
        text = exc.description if custom else messages.get(code, exc.description or "Fel")
        if wants_json():
            return jsonify({"error": text}), code
        return render_template("error.html", code=code, message=text), code
