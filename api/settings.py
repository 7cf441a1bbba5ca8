"""Runtime settings, read from ``SMARTSTEPS_*`` environment variables."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from ipaddress import ip_network
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"


def bound_url(host: str, port: int) -> str:
    """The http URL of a server bound to ``host``:``port`` (IPv6 literals in brackets)."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class Settings(BaseSettings):
    """Everything an operator can set; defaults run an embedded SQLite service."""

    model_config = SettingsConfigDict(env_prefix="SMARTSTEPS_", extra="ignore")

    data_dir: Path = Field(
        default=Path("data"),
        description="Folder for the SQLite file, the ledger signing key and the cursor secret.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default sqlite:///<data_dir>/smartsteps.sqlite3. "
        "For PostgreSQL: postgresql+psycopg://user:password@host:5432/dbname",
    )
    ocid_prefix: str = Field(
        default="smstps",
        description="The 6-character OCDS publisher prefix registered for this operator.",
    )
    body_limit_bytes: int = Field(default=1024 * 1024, ge=1024)
    idempotency_retention_hours: int = Field(default=24, ge=1)
    idempotency_lease_seconds: int = Field(
        default=60, ge=1, description="After this long an unfinished request's key is reusable."
    )
    ledger_key_path: Path | None = Field(
        default=None, description="Ed25519 signing key; default <data_dir>/ledger-ed25519.key"
    )
    ledger_origin: str = Field(
        default="smartsteps.example/ledger",
        description="The checkpoint origin line (a schema-less URL naming this log).",
    )
    checkpoint_interval_seconds: float = Field(
        default=0.0,
        ge=0,
        description="0 signs a checkpoint after every commit that appended (each append is "
        "covered by a checkpoint before it is acknowledged).",
    )
    auth_cache_seconds: float = Field(
        default=2.0,
        ge=0,
        le=60,
        description="A key checked against the database is trusted for this long without "
        "another read. A revocation takes effect at once in the process that revoked it, and "
        "within this time in other processes; 0 reads the key on every request.",
    )
    secret_key_path: Path | None = Field(
        default=None, description="HMAC key for cursors; default <data_dir>/secret.key"
    )
    sqlite_busy_timeout_ms: int = Field(default=30_000, ge=0)
    database_pool_size: int = Field(
        default=10,
        ge=1,
        description="Connections kept open for writes and the service's own short reads "
        "(key lookups); up to this many more in a burst. Read requests have pools of their "
        "own (query_slots, long_read_slots), so they never take the connections writes need.",
    )
    pool_timeout_seconds: float = Field(
        default=10,
        gt=0,
        description="How long a request waits for a free connection, or a read request for "
        "one of the query slots, before it is answered 503 with Retry-After.",
    )
    query_time_limit_seconds: float = Field(
        default=5,
        ge=0,
        description="Each statement of a read request (searches, compatibility, lists) is "
        "stopped after this long and the request answered 503; 0 sets no limit. Long reads "
        "(exports, the feed, ledger verification) are bounded by long_read_slots instead.",
    )
    query_slots: int = Field(
        default=2,
        ge=1,
        description="Read requests served at once per process; more wait for a turn (up "
        "to pool_timeout_seconds), then get 503 with Retry-After. Few, so that the write "
        "path gets its turn of the Python interpreter under a flood of heavy reads.",
    )
    long_read_slots: int = Field(
        default=2,
        ge=1,
        description="Exports, feed pages and ledger verifications running at once per "
        "process (each on a connection of its own pool); one more is answered 503 with "
        "Retry-After.",
    )
    rate_limit_per_key: str = Field(
        default="1200/minute", description="Budget of each API key (limits notation)."
    )
    rate_limit_anonymous: str = Field(
        default="300/minute", description="Budget of each client address without a key."
    )
    rate_limit_exports: str = Field(
        default="30/minute", description="Extra budget for /v1/exports and /v1/feed."
    )
    public_url: str = Field(
        default=DEFAULT_PUBLIC_URL,
        description="The service's address as clients reach it (scheme, host, optional port "
        "and path prefix); every absolute link (Link headers, OCDS URIs) is built from it, "
        "never from the request's Host header. 'smartsteps serve' defaults it to the address "
        "it binds.",
    )
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses or networks (CIDR) of reverse proxies whose "
        "X-Forwarded-For and X-Forwarded-Proto are believed; empty: none.",
    )

    # Auditor exports and red flags (procurement/audit); money in CZK excluding VAT.
    ocds_publisher_name: str = Field(
        default="smartsteps", description="publisher.name in OCDS packages."
    )
    ocds_license: str = Field(
        default="https://creativecommons.org/publicdomain/zero/1.0/",
        description="license of OCDS packages: the URL of the licence or waiver under which "
        "the data is published (default CC0 1.0: facts of public procurement, public by "
        "law, with the database maker's right waived; see the README).",
    )
    ocds_publication_policy: str | None = Field(
        default=None,
        description="publicationPolicy of OCDS packages: the URL of the operator's "
        "publication policy; unset: the policy this service serves at "
        "/v1/ocds/publication-policy.",
    )
    # Red-flag thresholds. Statutory values come from the dated law table
    # (procurement/law.py, GET /v1/law); these settings override it only when set.
    redflag_small_scale_supplies_services: Decimal | None = Field(
        default=None,
        gt=0,
        description="Override of the § 27 small-scale limit for supplies and services in "
        "the split-contracts flag; unset: the limit in force on each purchase's day.",
    )
    redflag_small_scale_works: Decimal | None = Field(
        default=None, gt=0, description="The same for works; unset: the law's limit."
    )
    redflag_split_near_share: Decimal = Field(
        default=Decimal("0.75"), gt=0, le=1, description="'Just under' the limit: this share+."
    )
    redflag_split_window_days: int = Field(default=365, ge=1)
    redflag_amendment_share_supplies_services: Decimal | None = Field(
        default=None, gt=0, description="Override of the § 222 odst. 4 share (law: 10 %)."
    )
    redflag_amendment_share_works: Decimal | None = Field(
        default=None, gt=0, description="Override of the § 222 odst. 4 share (law: 15 %)."
    )
    redflag_publication_threshold: Decimal | None = Field(
        default=None,
        ge=0,
        description="Override of the § 219 value limit; unset: the law's limit on the day "
        "(500,000 CZK until 2 April 2025, 1,000,000 CZK from 3 April 2025).",
    )
    redflag_publication_days: int | None = Field(
        default=None, ge=1, description="Override of the publication periods (§ 219, RS § 5)."
    )
    redflag_objection_days: int | None = Field(
        default=None, ge=1, description="Override of the objection period (§ 242)."
    )
    redflag_price_paid_months: int | None = Field(
        default=None, ge=1, description="Override of the price-paid period (§ 219 odst. 3)."
    )

    @field_validator("ocds_license", "ocds_publication_policy")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("an http(s) URL")
        return value

    @field_validator("ocid_prefix")
    @classmethod
    def _six_characters(cls, value: str) -> str:
        if len(value) != 6 or not value.isalnum():
            raise ValueError("the OCDS prefix is exactly 6 letters or digits")
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("the public URL is http(s)://host[:port][/prefix]")
        if parts.query or parts.fragment or parts.username or parts.password:
            raise ValueError("the public URL has no query, fragment or user")
        return value.rstrip("/")

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: str) -> str:
        entries = [entry.strip() for entry in value.split(",") if entry.strip()]
        for entry in entries:
            try:
                ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"{entry!r} is not an IP address or network; name each proxy by address"
                ) from None
        return ",".join(entries)

    @property
    def trusted_proxy_list(self) -> list[str]:
        return [entry for entry in self.trusted_proxies.split(",") if entry]

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'smartsteps.sqlite3').resolve()}"

    @property
    def effective_ledger_key_path(self) -> Path:
        return self.ledger_key_path or self.data_dir / "ledger-ed25519.key"

    @property
    def effective_secret_key_path(self) -> Path:
        return self.secret_key_path or self.data_dir / "secret.key"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
