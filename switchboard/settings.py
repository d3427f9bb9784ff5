"""Settings from the environment and `.env` in the working directory (docs/cli.md#settings)."""

from __future__ import annotations

import re
from functools import lru_cache

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "secret", "token", "xxx"}

# A host name or [IPv6] address, an optional port; a path of plain characters (no ';').
_PLAIN_HOST = re.compile(r"([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])"
                         r"(?::([0-9]{1,5}))?")
_PLAIN_PATH = re.compile(r"(?:/[A-Za-z0-9._~%!$&'()*+,=:@-]*)*")


def plain_http_url(value: str) -> str:
    """A public URL in the one form Twilio's `validate` reads back unchanged; ValueError if odd.

    Surrounding spaces, the scheme's case, and trailing '/', and empty '?', '#' or ';'
    go (`urlparse().geturl()` drops them too); anything else but scheme, host, port and path
    is refused, so the signature check can sign the URL exactly as built (ivr/signature.py).
    """
    url = value.strip()
    while url and url[-1] in "/?#;":
        url = url[:-1]
    scheme, sep, rest = url.partition("://")
    netloc, slash, path = rest.partition("/")
    host = _PLAIN_HOST.fullmatch(netloc)
    port = host.group(2) if host else None
    if (scheme.lower() not in ("http", "https") or not sep or host is None
            or (port is not None and not 0 < int(port) < 65536)
            or not _PLAIN_PATH.fullmatch(slash + path)):
        raise ValueError(
            "SWITCHBOARD_PUBLIC_URL must be a plain http(s) URL such as https://sb.example.org "
            "or http://127.0.0.1:8000/switchboard: scheme, host, optional port and path; "
            "no query, fragment, user name, spaces or non-ASCII letters (use the xn-- form)")
    return f"{scheme.lower()}://{netloc}{slash}{path}"


class Settings(BaseSettings):
    """All run-time settings; secrets are SecretStr so they never print."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    database_url: str = Field(
        "sqlite:///./switchboard.db", validation_alias="SWITCHBOARD_DATABASE_URL"
    )
    public_url: str = Field("http://127.0.0.1:8000", validation_alias="SWITCHBOARD_PUBLIC_URL")
    twilio_auth_token: SecretStr | None = Field(None, validation_alias="TWILIO_AUTH_TOKEN")
    admin_token: SecretStr | None = Field(None, validation_alias="SWITCHBOARD_ADMIN_TOKEN")
    timezone: str = Field("Europe/Oslo", validation_alias="SWITCHBOARD_TIMEZONE")
    pii_key: SecretStr | None = Field(None, validation_alias="SWITCHBOARD_PII_KEY")
    # Signs the console's CSRF tokens; several server processes must share one (docs/desk.md).
    secret_key: SecretStr | None = Field(None, validation_alias="SWITCHBOARD_SECRET_KEY")
    allow_test_ids: bool = Field(False, validation_alias="SWITCHBOARD_ALLOW_TEST_IDS")
    # Demo only: ignore opening hours so the demo rings at any hour of the day.
    always_open: bool = Field(False, validation_alias="SWITCHBOARD_ALWAYS_OPEN")

    ews_url: str | None = Field(None, validation_alias="SWITCHBOARD_EWS_URL")
    ews_username: str | None = Field(None, validation_alias="SWITCHBOARD_EWS_USERNAME")
    ews_password: SecretStr | None = Field(None, validation_alias="SWITCHBOARD_EWS_PASSWORD")
    ews_auth: str = Field("ntlm", validation_alias="SWITCHBOARD_EWS_AUTH")

    graph_tenant_id: str | None = Field(None, validation_alias="SWITCHBOARD_GRAPH_TENANT_ID")
    graph_client_id: str | None = Field(None, validation_alias="SWITCHBOARD_GRAPH_CLIENT_ID")
    graph_client_secret: SecretStr | None = Field(
        None, validation_alias="SWITCHBOARD_GRAPH_CLIENT_SECRET"
    )
    graph_anchor_user: str | None = Field(None, validation_alias="SWITCHBOARD_GRAPH_ANCHOR_USER")
    graph_base_url: str = Field(
        "https://graph.microsoft.com/v1.0", validation_alias="SWITCHBOARD_GRAPH_BASE_URL"
    )

    calendar_interval: int = Field(
        60, validation_alias=AliasChoices("SWITCHBOARD_CALENDAR_INTERVAL")
    )

    # Ticket mail: smtp://host:port or smtps://user:password@host:465 (a secret: it may hold
    # the password). Without it, mail waits in the outbox (docs/tickets.md).
    smtp_url: SecretStr | None = Field(None, validation_alias="SWITCHBOARD_SMTP_URL")
    mail_from: str = Field("switchboard@localhost", validation_alias="SWITCHBOARD_MAIL_FROM")

    @field_validator("public_url")
    @classmethod
    def _plain_public_url(cls, value: str) -> str:
        """Made plain once, at start-up, so no webhook pays for it."""
        return plain_http_url(value)

    @property
    def public_base(self) -> str:
        """The public URL without a trailing slash."""
        return self.public_url.rstrip("/")


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (tests build their own Settings instead)."""
    return Settings()
