"""Configuration: ``config/byway.toml`` defaults, overridden by ``BYWAY_*`` environment variables.

Precedence, lowest first: the defaults of :class:`Settings`, the TOML file (``BYWAY_CONFIG`` or
``config/byway.toml`` in the working directory), then the environment. The environment names
below are a public contract (deployments and outside tests use them):

``BYWAY_ENV``                  ``dev`` | ``production``
``BYWAY_DATA_DIR``             where SQLite files and other runtime data go
``BYWAY_TRANSPORT``            ``inprocess`` | ``http`` for cross-plugin calls
``BYWAY_DATABASE_URL``         default URL for every plugin; ``{plugin}`` is replaced by its name
``BYWAY_DATABASE_URL_<P>``     URL of one plugin (name upper-cased, ``-`` as ``_``)
``BYWAY_PLUGIN_URL_<P>``       base URL of a plugin served elsewhere (called over HTTP)
``BYWAY_<FIELD>``              every other field of :class:`Settings`, upper-cased
                               (``BYWAY_CLIENT_BACKOFF_SECONDS``, ``BYWAY_MAX_QUERY_DEPTH``...)
``BYWAY_<P>_<KEY>``            key ``<key>`` of plugin ``<p>``'s own settings

Values from the environment are text and are converted to each field's declared type
(:func:`coerce`); a value that does not fit is a :class:`ConfigurationError` naming the variable.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

DEV_JWT_SECRET = "byway-dev-secret-do-not-use-in-production"
DEFAULT_CONFIG_PATH = Path("config") / "byway.toml"


class ConfigurationError(RuntimeError):
    """The configuration is invalid or unsafe for the environment it runs in."""


def env_key(plugin: str) -> str:
    """The environment-variable suffix of a plugin name: ``students-internal`` → ``STUDENTS_INTERNAL``."""
    return plugin.upper().replace("-", "_")


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def coerce(value: Any, kind: Any, what: str) -> Any:
    """``value`` (from TOML or the environment) as the type ``kind``; :class:`ConfigurationError` if it does not fit.

    Understands ``str``, ``bool`` (``true/false/1/0/yes/no/on/off``), ``int``, ``float``,
    ``Path``, ``X | None`` (an empty string is None), ``Literal[...]``, ``tuple[X, ...]``,
    ``list[X]``, ``frozenset[X]`` (a TOML array or comma-separated text), mappings (TOML
    tables) and ``Any``. ``what`` names the setting in the error.
    """
    origin, args = get_origin(kind), get_args(kind)
    if kind is Any:
        return value
    if origin in (Union, types.UnionType):
        members = [a for a in args if a is not type(None)]
        if value is None or (type(None) in args and isinstance(value, str) and not value.strip()):
            if type(None) in args:
                return None
        problems = []
        for member in members:
            try:
                return coerce(value, member, what)
            except ConfigurationError as exc:
                problems.append(str(exc))
        raise ConfigurationError(problems[0] if len(problems) == 1 else f"{what}: {value!r} fits none of {kind}")
    if origin is Literal:
        for allowed in args:
            if value == allowed or (isinstance(value, str) and str(allowed) == value.strip()):
                return allowed
        raise ConfigurationError(f"{what} must be one of {', '.join(repr(a) for a in args)}, not {value!r}")
    if origin in (tuple, list, frozenset, set) or kind in (tuple, list, frozenset, set):
        item = args[0] if args else Any
        items = value if isinstance(value, (list, tuple, set, frozenset)) else None
        if items is None:
            if not isinstance(value, str):
                raise ConfigurationError(f"{what} must be a list, not {value!r}")
            items = [part.strip() for part in value.split(",") if part.strip()]
        container = origin or kind
        return container(coerce(v, item, f"{what}[{i}]") for i, v in enumerate(items))
    if origin in (dict, Mapping, typing.Mapping) or kind in (dict, Mapping):
        if not isinstance(value, Mapping):
            raise ConfigurationError(f"{what} must be a table (mapping), not {value!r}")
        return dict(value)
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise ConfigurationError(f"{what} must be true or false, not {value!r}")
    if kind in (int, float):
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ConfigurationError(f"{what} must be a number ({kind.__name__}), not {value!r}")
        try:
            number = kind(value.strip()) if isinstance(value, str) else kind(value)
        except ValueError as exc:
            raise ConfigurationError(f"{what} must be a number ({kind.__name__}), not {value!r}") from exc
        if kind is int and isinstance(value, float) and value != number:
            raise ConfigurationError(f"{what} must be a whole number, not {value!r}")
        return number
    if kind is Path:
        if isinstance(value, (str, Path)):
            return Path(value)
        raise ConfigurationError(f"{what} must be a path, not {value!r}")
    if kind is str:
        if isinstance(value, str):
            return value
        raise ConfigurationError(f"{what} must be text, not {value!r}")
    if isinstance(kind, type) and isinstance(value, kind):
        return value
    raise ConfigurationError(f"{what}: cannot read {value!r} as {kind}")


@dataclass(frozen=True)
class Settings:
    """Every setting of the host; plugins read theirs through :meth:`plugin_config`."""

    env: str = "dev"
    debug: bool = False
    data_dir: Path = Path("var")
    database_url: str = ""
    database_urls: Mapping[str, str] = field(default_factory=dict)
    transport: str = "inprocess"
    #: Base URL of this server, used by the HTTP transport; ``byway serve`` sets it.
    self_url: str = "http://127.0.0.1:8000"
    #: Per-plugin base URLs; a plugin listed here is always called over HTTP.
    plugin_urls: Mapping[str, str] = field(default_factory=dict)
    jwt_secret: str = DEV_JWT_SECRET
    jwt_algorithm: str = "HS256"
    #: Lifetime of an access token (JWT). Short, because it cannot be revoked: a refresh token
    #: renews it, and role changes or revoked sessions reach a user within this time.
    token_ttl_seconds: int = 15 * 60
    service_token_ttl_seconds: int = 300
    introspection: bool | None = None
    max_body_bytes: int = 1024 * 1024
    max_query_depth: int = 12
    max_query_cost: int = 5000
    #: Longest GraphQL document accepted (characters) and most lexical tokens it may have.
    max_query_bytes: int = 100_000
    max_query_tokens: int = 2_000
    #: Origins allowed to call the API from a browser on another origin (``*`` for any); none by default.
    cors_origins: tuple[str, ...] = ()
    #: Serve the GraphiQL playground on GET: on in dev, off in production unless set.
    playground: bool | None = None
    auto_migrate: bool | None = None
    disabled_plugins: tuple[str, ...] = ()
    client_timeout_seconds: float = 10.0
    client_retries: int = 3
    client_backoff_seconds: float = 0.1
    #: How SQLite databases are driven: ``inline`` (sqlite3 on the event loop, a worker thread only
    #: to wait for a lock) or ``aiosqlite`` (every statement on a thread); see docs/performance.md.
    sqlite_driver: str = "inline"
    #: A served process (``byway serve``), once started, freezes what start-up allocated out of the
    #: garbage collector's sight and lets this many allocations happen between young collections
    #: (Python's default is 700); 0 leaves the collector as Python sets it. See docs/performance.md.
    gc_young_threshold: int = 20_000
    #: A pooled PostgreSQL connection idle longer than this is pinged before use (0: before every use).
    database_ping_after_idle_seconds: float = 10.0
    #: Where people reach this site (links in emails); empty means ``self_url``.
    public_base_url: str = ""
    #: Reverse proxies whose ``X-Forwarded-For`` is believed (IP addresses or CIDR networks).
    trusted_proxies: tuple[str, ...] = ()
    #: Serve ``GET /metrics`` (Prometheus); see docs/operations.md.
    metrics_enabled: bool = True
    #: When set, ``/metrics`` requires ``Authorization: Bearer <token>``; unset, production answers loopback only.
    metrics_token: str = ""
    #: Budget of each plugin's scrape-time metric callback (seconds).
    metrics_scrape_timeout_seconds: float = 2.0
    #: OTLP/HTTP traces endpoint (``http://collector:4318/v1/traces``); empty: spans are not exported.
    otlp_endpoint: str = ""
    #: ``service.name`` of exported spans.
    service_name: str = "byway"
    #: ``auto`` (JSON lines in production, readable text in dev), ``json`` or ``text``.
    log_format: str = "auto"
    log_level: str = "INFO"
    #: Plugin-specific settings, keyed by plugin name (``[plugin.<name>]`` tables).
    plugins: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: The ``BYWAY_*`` variables plugins' settings are read from (:meth:`plugin_config`): those of
    #: the environment given to :func:`load_settings`; None (settings built in code) reads ``os.environ``.
    plugin_environ: Mapping[str, str] | None = field(default=None, repr=False, compare=False)

    @property
    def is_production(self) -> bool:
        """True when ``env`` is ``production``."""
        return self.env == "production"

    @property
    def introspection_enabled(self) -> bool:
        """Introspection is on in dev unless configured off, off in production unless configured on."""
        return (not self.is_production) if self.introspection is None else self.introspection

    @property
    def playground_enabled(self) -> bool:
        """The playground is on in dev unless configured off, off in production unless configured on."""
        return (not self.is_production) if self.playground is None else self.playground

    @property
    def migrate_on_startup(self) -> bool:
        """Whether ``serve`` applies pending migrations at start-up (default: in dev only)."""
        return (not self.is_production) if self.auto_migrate is None else self.auto_migrate

    def database_url_for(self, plugin: str) -> str:
        """The SQLAlchemy URL of a plugin's database (async driver)."""
        url = self.database_urls.get(plugin) or self.database_url
        if not url:
            path = (self.data_dir / f"{plugin}.db").resolve()
            return f"sqlite+aiosqlite:///{path}"
        return url.replace("{plugin}", plugin.replace("-", "_"))

    @property
    def public_url(self) -> str:
        """The public base URL of the site, without a trailing slash (``public_base_url`` or ``self_url``)."""
        return (self.public_base_url or self.self_url).rstrip("/")

    def base_url_for(self, plugin: str) -> str | None:
        """Where to send HTTP calls for a plugin, or None to call it in-process."""
        if plugin in self.plugin_urls:
            return self.plugin_urls[plugin].rstrip("/")
        if self.transport == "http":
            return self.self_url.rstrip("/")
        return None

    def plugin_config(self, plugin: str, others: Iterable[str] = ()) -> dict[str, Any]:
        """A plugin's own settings: its ``[plugin.<name>]`` table, then ``BYWAY_<P>_<KEY>`` variables.

        ``others`` are the names of the other loaded plugins: a variable of a plugin whose name
        extends this one (``BYWAY_TEACH_INTERNAL_X`` next to ``teach``) is not taken for ours.
        """
        merged = dict(self.plugins.get(plugin, {}))
        prefix = f"BYWAY_{env_key(plugin)}_"
        theirs = tuple(
            f"BYWAY_{env_key(o)}_" for o in others if o != plugin and f"BYWAY_{env_key(o)}_".startswith(prefix)
        )
        environ = os.environ if self.plugin_environ is None else self.plugin_environ
        for key, value in environ.items():
            if key in _ENV_FIELDS:  # a host setting (BYWAY_CLIENT_RETRIES is not plugin "client"'s)
                continue
            if key.startswith(prefix) and not key.startswith(("BYWAY_DATABASE_URL", "BYWAY_PLUGIN_URL", *theirs)):
                merged[key[len(prefix) :].lower()] = value
        return merged

    def check(self) -> None:
        """Refuse unsafe or contradictory settings (called by the app factory and the CLI)."""
        if self.env not in {"dev", "production"}:
            raise ConfigurationError(f"BYWAY_ENV must be 'dev' or 'production', not {self.env!r}")
        if self.transport not in {"inprocess", "http"}:
            raise ConfigurationError(f"BYWAY_TRANSPORT must be 'inprocess' or 'http', not {self.transport!r}")
        if self.gc_young_threshold < 0:
            raise ConfigurationError(f"BYWAY_GC_YOUNG_THRESHOLD must be 0 or more, not {self.gc_young_threshold}")
        if self.sqlite_driver not in {"inline", "aiosqlite"}:
            raise ConfigurationError(f"BYWAY_SQLITE_DRIVER must be 'inline' or 'aiosqlite', not {self.sqlite_driver!r}")
        if self.is_production and self.jwt_secret == DEV_JWT_SECRET:
            raise ConfigurationError("BYWAY_ENV=production refuses the development JWT secret: set BYWAY_JWT_SECRET")
        if self.token_ttl_seconds < 1:
            raise ConfigurationError("BYWAY_TOKEN_TTL_SECONDS must be at least 1")
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError as exc:
                raise ConfigurationError(f"BYWAY_TRUSTED_PROXIES: {proxy!r} is not an IP address or network") from exc
        if self.is_production and len(self.jwt_secret) < 32:
            raise ConfigurationError("BYWAY_JWT_SECRET must be at least 32 characters in production")
        if self.log_format not in {"auto", "json", "text"}:
            raise ConfigurationError(f"BYWAY_LOG_FORMAT must be 'auto', 'json' or 'text', not {self.log_format!r}")
        if self.log_level.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ConfigurationError(f"BYWAY_LOG_LEVEL must be a logging level name, not {self.log_level!r}")
        if self.is_production and self.metrics_token and len(self.metrics_token) < 16:
            raise ConfigurationError("BYWAY_METRICS_TOKEN must be at least 16 characters in production")

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with some settings changed (used by tests and the CLI)."""
        return replace(self, **changes)


_ENV_FIELDS: dict[str, str] = {
    "BYWAY_ENV": "env",
    "BYWAY_DEBUG": "debug",
    "BYWAY_DATA_DIR": "data_dir",
    "BYWAY_DATABASE_URL": "database_url",
    "BYWAY_TRANSPORT": "transport",
    "BYWAY_SELF_URL": "self_url",
    "BYWAY_JWT_SECRET": "jwt_secret",
    "BYWAY_JWT_ALGORITHM": "jwt_algorithm",
    "BYWAY_TOKEN_TTL_SECONDS": "token_ttl_seconds",
    "BYWAY_INTROSPECTION": "introspection",
    "BYWAY_MAX_BODY_BYTES": "max_body_bytes",
    "BYWAY_MAX_QUERY_DEPTH": "max_query_depth",
    "BYWAY_MAX_QUERY_COST": "max_query_cost",
    "BYWAY_MAX_QUERY_BYTES": "max_query_bytes",
    "BYWAY_MAX_QUERY_TOKENS": "max_query_tokens",
    "BYWAY_CORS_ORIGINS": "cors_origins",
    "BYWAY_PLAYGROUND": "playground",
    "BYWAY_AUTO_MIGRATE": "auto_migrate",
    "BYWAY_DISABLED_PLUGINS": "disabled_plugins",
    "BYWAY_CLIENT_TIMEOUT_SECONDS": "client_timeout_seconds",
    "BYWAY_CLIENT_RETRIES": "client_retries",
    "BYWAY_SQLITE_DRIVER": "sqlite_driver",
    "BYWAY_DATABASE_PING_AFTER_IDLE_SECONDS": "database_ping_after_idle_seconds",
    "BYWAY_PUBLIC_BASE_URL": "public_base_url",
    "BYWAY_TRUSTED_PROXIES": "trusted_proxies",
    "BYWAY_METRICS_ENABLED": "metrics_enabled",
    "BYWAY_METRICS_TOKEN": "metrics_token",
    "BYWAY_METRICS_SCRAPE_TIMEOUT_SECONDS": "metrics_scrape_timeout_seconds",
    "BYWAY_OTLP_ENDPOINT": "otlp_endpoint",
    "BYWAY_SERVICE_NAME": "service_name",
    "BYWAY_LOG_FORMAT": "log_format",
    "BYWAY_LOG_LEVEL": "log_level",
}


#: Fields that are not read from ``BYWAY_<FIELD>`` (they have variables of their own, see above).
_NOT_FROM_ENV = frozenset({"database_urls", "plugin_urls", "plugins", "plugin_environ"})
# Every other field is settable as BYWAY_<FIELD_UPPER> (config/byway.toml promises it).
_ENV_FIELDS.update({f"BYWAY_{f.name.upper()}": f.name for f in fields(Settings) if f.name not in _NOT_FROM_ENV})


def _coerce(name: str, value: Any, what: str | None = None) -> Any:
    return coerce(value, get_type_hints(Settings)[name], what or name)


def load_settings(environ: Mapping[str, str] | None = None, config_path: str | Path | None = None) -> Settings:
    """Build :class:`Settings` from the TOML file and the environment, then :meth:`Settings.check` it."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    path = Path(config_path or environ.get("BYWAY_CONFIG") or DEFAULT_CONFIG_PATH)
    if path.is_file():
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
        host = dict(raw.get("byway", {}))
        known = {f.name for f in fields(Settings)}
        unknown = set(host) - known - {"database_urls", "plugin_urls"}
        if unknown:
            raise ConfigurationError(f"{path}: unknown settings {sorted(unknown)}")
        for key, value in host.items():
            values[key] = value if key in {"database_urls", "plugin_urls"} else _coerce(key, value, f"{path}: {key}")
        values["plugins"] = dict(raw.get("plugin", {}))
    elif config_path is not None or "BYWAY_CONFIG" in environ:
        raise ConfigurationError(f"configuration file {path} not found")

    for var, name in _ENV_FIELDS.items():
        if var in environ:
            values[name] = _coerce(name, environ[var], var)
    # Keyed like the variables (``TEACH_INTERNAL``) so that a variable replaces the file's entry.
    db_urls = {env_key(k): str(v) for k, v in values.get("database_urls", {}).items()}
    plugin_urls = {env_key(k): str(v) for k, v in values.get("plugin_urls", {}).items()}
    for var, value in environ.items():
        if var.startswith("BYWAY_DATABASE_URL_"):
            db_urls[var.removeprefix("BYWAY_DATABASE_URL_")] = value
        elif var.startswith("BYWAY_PLUGIN_URL_"):
            plugin_urls[var.removeprefix("BYWAY_PLUGIN_URL_")] = value
    values["database_urls"] = _KeyedByPlugin(db_urls)
    values["plugin_urls"] = _KeyedByPlugin(plugin_urls)
    values["plugin_environ"] = {k: v for k, v in environ.items() if k.startswith("BYWAY_")}
    settings = Settings(**values)
    settings.check()
    return settings


class _KeyedByPlugin(dict[str, str]):
    """A mapping that finds ``students-internal`` under that name or under ``STUDENTS_INTERNAL``."""

    def get(self, key: str, default: Any = None) -> Any:
        if dict.__contains__(self, key):
            return dict.__getitem__(self, key)
        return dict.get(self, env_key(key), default)

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self, key) or (isinstance(key, str) and dict.__contains__(self, env_key(key)))

    def __getitem__(self, key: str) -> str:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return str(value)
