"""Configuration: TOML defaults, ``BYWAY_*`` overrides, per-plugin URLs and settings, safety checks."""

from __future__ import annotations

import time
from dataclasses import fields
from pathlib import Path

import pytest
from jose import jwt

import byway.settings as settings_module
import tests.plugins.notes as notes
from byway.app import create_app
from byway.settings import DEV_JWT_SECRET, ConfigurationError, Settings, env_key, load_settings
from tests.conftest import REPO

STRONG_SECRET = "x" * 40


def write_toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "byway.toml"
    path.write_text(text)
    return path


def test_defaults_without_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no config/byway.toml here
    settings = load_settings({})
    assert settings == Settings(database_urls={}, plugin_urls={})
    assert settings.env == "dev" and settings.transport == "inprocess"
    assert settings.introspection_enabled and settings.migrate_on_startup


def test_toml_overrides_defaults_and_environment_overrides_toml(tmp_path: Path) -> None:
    path = write_toml(
        tmp_path,
        """
[byway]
debug = true
max_query_depth = 7
max_body_bytes = 1000
transport = "http"
disabled_plugins = ["a", "b"]
""",
    )
    from_file = load_settings({}, path)
    assert (from_file.debug, from_file.max_query_depth, from_file.max_body_bytes) == (True, 7, 1000)
    assert from_file.transport == "http" and from_file.disabled_plugins == ("a", "b")

    env = {
        "BYWAY_DEBUG": "0",
        "BYWAY_MAX_QUERY_DEPTH": "3",
        "BYWAY_TRANSPORT": "inprocess",
        "BYWAY_DISABLED_PLUGINS": "c, d",
        "BYWAY_INTROSPECTION": "false",
        "BYWAY_AUTO_MIGRATE": "no",
        "BYWAY_CLIENT_TIMEOUT_SECONDS": "2.5",
    }
    overridden = load_settings(env, path)
    assert overridden.debug is False and overridden.max_query_depth == 3
    assert overridden.max_body_bytes == 1000  # not overridden: the file's value stays
    assert overridden.transport == "inprocess"
    assert overridden.disabled_plugins == ("c", "d")
    assert overridden.introspection_enabled is False
    assert overridden.migrate_on_startup is False
    assert overridden.client_timeout_seconds == 2.5


def test_byway_config_names_the_file(tmp_path: Path) -> None:
    path = write_toml(tmp_path, "[byway]\nmax_query_cost = 42\n")
    assert load_settings({"BYWAY_CONFIG": str(path)}).max_query_cost == 42
    with pytest.raises(ConfigurationError, match="not found"):
        load_settings({"BYWAY_CONFIG": str(tmp_path / "missing.toml")})


def test_unknown_key_in_the_file_is_refused(tmp_path: Path) -> None:
    path = write_toml(tmp_path, "[byway]\nmax_query_dept = 3\n")
    with pytest.raises(ConfigurationError, match="max_query_dept"):
        load_settings({}, path)


def test_shipped_config_file_is_valid() -> None:
    settings = load_settings({}, REPO / "config" / "byway.toml")
    assert settings.env == "dev"
    assert settings.data_dir == Path("var")
    assert settings.database_url == "" and settings.transport == "inprocess"
    assert settings.max_body_bytes == 1048576 and settings.client_retries == 3
    assert settings.disabled_plugins == ()
    assert settings.plugin_config("ecommerce")["reconcile_interval_seconds"] == 300


def test_data_dir_holds_one_sqlite_file_per_plugin(tmp_path: Path) -> None:
    settings = load_settings({"BYWAY_DATA_DIR": str(tmp_path / "d")}, write_toml(tmp_path, ""))
    assert settings.data_dir == tmp_path / "d"
    assert settings.database_url_for("notes") == f"sqlite+aiosqlite:///{tmp_path / 'd' / 'notes.db'}"
    assert settings.database_url_for("teach-internal").endswith("/d/teach-internal.db")


def test_database_url_template_is_filled_per_plugin(tmp_path: Path) -> None:
    env = {"BYWAY_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1/byway_{plugin}"}
    settings = load_settings(env, write_toml(tmp_path, ""))
    assert settings.database_url_for("notes") == "postgresql+psycopg://postgres@127.0.0.1/byway_notes"
    assert settings.database_url_for("teach-internal").endswith("/byway_teach_internal")
    shared = load_settings({"BYWAY_DATABASE_URL": "sqlite+aiosqlite:////tmp/one.db"}, write_toml(tmp_path, ""))
    assert shared.database_url_for("a") == shared.database_url_for("b") == "sqlite+aiosqlite:////tmp/one.db"


def test_database_url_of_one_plugin_wins(tmp_path: Path) -> None:
    env = {
        "BYWAY_DATABASE_URL": "postgresql+psycopg://h/byway_{plugin}",
        "BYWAY_DATABASE_URL_TEACH_INTERNAL": "postgresql+psycopg://other/ti",
    }
    settings = load_settings(env, write_toml(tmp_path, ""))
    assert env_key("teach-internal") == "TEACH_INTERNAL"
    assert settings.database_url_for("teach-internal") == "postgresql+psycopg://other/ti"
    assert settings.database_url_for("teach") == "postgresql+psycopg://h/byway_teach"


def test_environment_overrides_database_urls_of_the_file(tmp_path: Path) -> None:
    path = write_toml(
        tmp_path,
        '[byway.database_urls]\nnotes = "sqlite:///from-file.db"\nteach-internal = "sqlite:///ti-file.db"\n',
    )
    assert load_settings({}, path).database_url_for("notes") == "sqlite:///from-file.db"
    assert load_settings({}, path).database_url_for("teach-internal") == "sqlite:///ti-file.db"
    env = {"BYWAY_DATABASE_URL_NOTES": "sqlite:///from-env.db", "BYWAY_DATABASE_URL_TEACH_INTERNAL": "sqlite:///e.db"}
    settings = load_settings(env, path)
    assert settings.database_url_for("notes") == "sqlite:///from-env.db"
    assert settings.database_url_for("teach-internal") == "sqlite:///e.db"


def test_transport_setting(tmp_path: Path) -> None:
    path = write_toml(tmp_path, "")
    assert load_settings({}, path).base_url_for("notes") is None
    http = load_settings({"BYWAY_TRANSPORT": "http", "BYWAY_SELF_URL": "http://127.0.0.1:9999/"}, path)
    assert http.base_url_for("notes") == "http://127.0.0.1:9999"
    one = load_settings({"BYWAY_PLUGIN_URL_TEACH_INTERNAL": "http://ti:8000"}, path)
    assert one.base_url_for("teach-internal") == "http://ti:8000"
    assert one.base_url_for("notes") is None
    with pytest.raises(ConfigurationError, match="BYWAY_TRANSPORT"):
        load_settings({"BYWAY_TRANSPORT": "carrier-pigeon"}, path)


def test_env_must_be_dev_or_production(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="BYWAY_ENV"):
        load_settings({"BYWAY_ENV": "staging"}, write_toml(tmp_path, ""))


def test_production_refuses_the_dev_secret(tmp_path: Path) -> None:
    path = write_toml(tmp_path, "")
    with pytest.raises(ConfigurationError, match="BYWAY_JWT_SECRET"):
        load_settings({"BYWAY_ENV": "production"}, path)
    with pytest.raises(ConfigurationError, match="at least 32"):
        load_settings({"BYWAY_ENV": "production", "BYWAY_JWT_SECRET": "short"}, path)
    production = load_settings({"BYWAY_ENV": "production", "BYWAY_JWT_SECRET": STRONG_SECRET}, path)
    assert production.is_production
    assert not production.introspection_enabled and not production.migrate_on_startup


def test_create_app_refuses_the_dev_secret_in_production(tmp_path: Path) -> None:
    unsafe = Settings(env="production", jwt_secret=DEV_JWT_SECRET, data_dir=tmp_path)
    with pytest.raises(ConfigurationError, match="development JWT secret"):
        create_app(unsafe, [notes])


def test_plugin_config_from_file_and_the_environment_given_to_load_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_toml(
        tmp_path,
        "[plugin.ecommerce]\ninterval = 300\nmode = 'file'\n[plugin.teach-internal]\npage = 20\n",
    )
    settings = load_settings({}, path)
    assert settings.plugin_config("ecommerce") == {"interval": 300, "mode": "file"}
    environ = {"BYWAY_ECOMMERCE_MODE": "env", "BYWAY_TEACH_INTERNAL_PAGE": "50"}
    settings = load_settings(environ, path)
    assert settings.plugin_config("ecommerce") == {"interval": 300, "mode": "env"}
    assert settings.plugin_config("teach-internal") == {"page": "50"}
    assert settings.plugin_config("unknown") == {}
    # The environment given to load_settings is the one read: os.environ is not.
    monkeypatch.setenv("BYWAY_ECOMMERCE_MODE", "os")
    assert settings.plugin_config("ecommerce")["mode"] == "env"
    assert load_settings({}, path).plugin_config("ecommerce")["mode"] == "file"
    assert settings.with_overrides(debug=True).plugin_config("ecommerce")["mode"] == "env"


def test_settings_built_in_code_read_plugin_settings_from_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BYWAY_ECOMMERCE_MODE", "os")
    assert Settings().plugin_config("ecommerce") == {"mode": "os"}


def test_every_settings_field_is_settable_from_the_environment(tmp_path: Path) -> None:
    environ = {
        "BYWAY_CLIENT_BACKOFF_SECONDS": "0.25",
        "BYWAY_SERVICE_TOKEN_TTL_SECONDS": "60",
        "BYWAY_TOKEN_TTL_SECONDS": "120",
        "BYWAY_CLIENT_RETRIES": "0",
        "BYWAY_INTROSPECTION": "false",
        "BYWAY_AUTO_MIGRATE": "",
        "BYWAY_DATA_DIR": str(tmp_path),
        "BYWAY_DISABLED_PLUGINS": "a, b",
    }
    settings = load_settings(environ, write_toml(tmp_path, "[byway]\nauto_migrate = true\n"))
    assert settings.client_backoff_seconds == 0.25
    assert settings.service_token_ttl_seconds == 60
    assert settings.token_ttl_seconds == 120
    assert settings.client_retries == 0
    assert settings.introspection is False
    assert settings.auto_migrate is None  # empty text is "unset" for an optional setting
    assert settings.data_dir == tmp_path
    assert settings.disabled_plugins == ("a", "b")
    skipped = {"database_urls", "plugin_urls", "plugins", "plugin_environ"}
    for spec in fields(Settings):
        if spec.name not in skipped:
            assert f"BYWAY_{spec.name.upper()}" in settings_module._ENV_FIELDS, spec.name


def test_service_token_ttl_from_the_environment_reaches_the_tokens(tmp_path: Path) -> None:
    settings = load_settings({"BYWAY_SERVICE_TOKEN_TTL_SECONDS": "7", "BYWAY_DATA_DIR": str(tmp_path)})
    app = create_app(settings, [notes])
    before = int(time.time())
    claims = jwt.get_unverified_claims(app.state.host.tokens.service_token("notes"))
    assert before + 7 <= claims["exp"] <= int(time.time()) + 7


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("BYWAY_CLIENT_RETRIES", "three", "BYWAY_CLIENT_RETRIES must be a number"),
        ("BYWAY_CLIENT_BACKOFF_SECONDS", "soon", "BYWAY_CLIENT_BACKOFF_SECONDS must be a number"),
        ("BYWAY_DEBUG", "maybe", "BYWAY_DEBUG must be true or false"),
        ("BYWAY_INTROSPECTION", "perhaps", "BYWAY_INTROSPECTION must be true or false"),
    ],
)
def test_a_value_of_the_wrong_type_names_the_variable(variable: str, value: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        load_settings({variable: value})


def test_a_wrong_type_in_the_file_names_the_file_and_key(tmp_path: Path) -> None:
    path = write_toml(tmp_path, '[byway]\nmax_query_depth = "deep"\n')
    with pytest.raises(ConfigurationError, match="max_query_depth must be a number"):
        load_settings({}, path)
    with pytest.raises(ConfigurationError, match="must be a whole number"):
        load_settings({}, write_toml(tmp_path, "[byway]\nmax_query_depth = 2.5\n"))


def test_a_host_setting_is_not_taken_for_a_plugin_setting() -> None:
    settings = load_settings({"BYWAY_CLIENT_RETRIES": "2", "BYWAY_CLIENT_COLOUR": "red"})
    assert settings.plugin_config("client") == {"colour": "red"}


def test_plugin_config_ignores_database_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BYWAY_DATABASE_URL_NOTES", "sqlite:///x.db")
    assert Settings().plugin_config("database") == {}


def test_with_overrides_copies() -> None:
    base = Settings()
    changed = base.with_overrides(max_query_depth=3)
    assert (base.max_query_depth, changed.max_query_depth) == (12, 3)


def test_plugin_config_keeps_a_longer_plugin_names_variables_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BYWAY_TEACH_INTERNAL_PAGE", "50")
    monkeypatch.setenv("BYWAY_TEACH_BIO_LIMIT", "9")
    plugins = ["teach", "teach-internal"]
    assert Settings().plugin_config("teach", plugins) == {"bio_limit": "9"}
    assert Settings().plugin_config("teach-internal", plugins) == {"page": "50"}
