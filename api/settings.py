"""Runtime settings, read from ``SMARTSTEPS_*`` environment variables."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


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

    # Auditor exports and red flags (procurement/audit); money in CZK excluding VAT.
    ocds_publisher_name: str = Field(
        default="smartsteps", description="publisher.name in OCDS packages."
    )
    redflag_small_scale_supplies_services: Decimal = Field(
        default=Decimal("2000000"), gt=0, description="Small-scale limit, supplies/services."
    )
    redflag_small_scale_works: Decimal = Field(
        default=Decimal("6000000"), gt=0, description="Small-scale limit, works."
    )
    redflag_split_near_share: Decimal = Field(
        default=Decimal("0.75"), gt=0, le=1, description="'Just under' the limit: this share+."
    )
    redflag_split_window_days: int = Field(default=365, ge=1)
    redflag_amendment_share_supplies_services: Decimal = Field(default=Decimal("0.10"), gt=0)
    redflag_amendment_share_works: Decimal = Field(default=Decimal("0.15"), gt=0)
    redflag_publication_threshold: Decimal = Field(
        default=Decimal("500000"), ge=0, description="Contracts above this must be published."
    )
    redflag_publication_days: int = Field(default=30, ge=1)
    redflag_objection_days: int = Field(default=15, ge=1)
    redflag_price_paid_months: int = Field(default=3, ge=1)

    @field_validator("ocid_prefix")
    @classmethod
    def _six_characters(cls, value: str) -> str:
        if len(value) != 6 or not value.isalnum():
            raise ValueError("the OCDS prefix is exactly 6 letters or digits")
        return value

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
