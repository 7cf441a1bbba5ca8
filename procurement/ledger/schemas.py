"""API models of the ledger."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class PublicKey(BaseModel):
    """The key that signs checkpoints, in the C2SP signed-note verifier key format."""

    algorithm: str = Field(examples=["Ed25519"])
    name: str = Field(description="The key name, equal to the checkpoint origin.")
    key_id: str = Field(description="Hex of the 4-byte key id.")
    verifier_key: str = Field(description="<name>+<hex key id>+<base64(0x01 || public key)>")
    public_key: str = Field(description="Base64 of the raw 32-byte Ed25519 public key.")


class InclusionProof(BaseModel):
    leaf_index: int
    tree_size: int
    leaf_hash: str = Field(description="Base64 leaf hash, SHA-256(0x00 || entry bytes).")
    root_hash: str = Field(description="Base64 root of the tree of tree_size leaves.")
    proof: list[str] = Field(description="Base64 hashes, RFC 9162 PATH, nearest first.")
    checkpoint: str | None = Field(
        default=None, description="The signed checkpoint of tree_size, when one was made."
    )


class ConsistencyProof(BaseModel):
    first: int
    second: int
    first_root: str
    second_root: str
    proof: list[str] = Field(description="Base64 hashes, RFC 9162 PROOF.")
    first_checkpoint: str | None = None
    second_checkpoint: str | None = None


class LedgerEntryPublic(BaseModel):
    leaf_index: int
    leaf_hash: str = Field(description="Hex SHA-256(0x00 || entry bytes).")
    entry_hash: str = Field(description="Hex SHA-256(entry bytes).")
    entry: dict[str, Any] = Field(description="The entry document (canonical JSON parsed).")
    entry_bytes: str = Field(description="Base64 of the exact stored bytes.")


class LedgerEntries(BaseModel):
    items: list[LedgerEntryPublic]
    tree_size: int
    next_start: int | None


class VerifyFailure(BaseModel):
    where: str
    reason: str
    leaf_index: int | None


class VerifyReport(BaseModel):
    ok: bool
    entries: int
    checkpoints: int
    procurements: int
    tree_size: int
    root: str | None = Field(description="Hex root of the verified log (when ok).")
    failure: VerifyFailure | None = None
