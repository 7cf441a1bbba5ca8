"""Checkpoints: C2SP tlog-checkpoint bodies in C2SP signed notes, signed with Ed25519.

Body::

    <origin>\\n<tree size>\\n<base64 root hash>\\n

Signed note: the body, a blank line, and ``— <key name> <base64(key id || signature)>``.
The key id is the first 4 bytes of SHA-256(name || 0x0A || 0x01 || public key); the
verifier key is written ``<name>+<hex key id>+<base64(0x01 || public key)>``.
This module needs only the standard library and ``cryptography`` (the offline verifier
imports it).
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519 = b"\x01"
EM_DASH = "\u2014"
MAX_NOTE_BYTES = 1_000_000


class CheckpointError(ValueError):
    """A checkpoint or key that is malformed, unsigned or signed by someone else."""


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    def body(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"


@dataclass(frozen=True)
class VerifierKey:
    name: str
    key_id: bytes
    public_key: Ed25519PublicKey
    raw: bytes

    def text(self) -> str:
        return f"{self.name}+{self.key_id.hex()}+{base64.b64encode(ED25519 + self.raw).decode()}"


def key_id(name: str, raw_public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + raw_public_key).digest()[:4]


def verifier_key(name: str, public_key: Ed25519PublicKey) -> VerifierKey:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return VerifierKey(name, key_id(name, raw), public_key, raw)


def parse_verifier_key(text: str) -> VerifierKey:
    """Read ``name+hexid+base64key`` (a key file may hold it with surrounding whitespace)."""
    parts = text.strip().split("+", 2)  # base64 may itself contain "+"
    if len(parts) != 3 or not parts[0]:
        raise CheckpointError("a verifier key reads <name>+<key id>+<base64 key>")
    name, hex_id, b64 = parts
    try:
        blob = base64.b64decode(b64, validate=True)
        claimed = bytes.fromhex(hex_id)
    except ValueError:
        raise CheckpointError("the verifier key is not valid hex and base64") from None
    if len(blob) != 33 or blob[:1] != ED25519:
        raise CheckpointError("the verifier key is not an Ed25519 key")
    raw = blob[1:]
    if claimed != key_id(name, raw):
        raise CheckpointError("the verifier key's id does not match its name and key")
    return VerifierKey(name, claimed, Ed25519PublicKey.from_public_bytes(raw), raw)


@dataclass(frozen=True)
class Signer:
    origin: str
    private_key: Ed25519PrivateKey
    verifier: VerifierKey

    def sign(self, size: int, root: bytes) -> str:
        """The signed note for the tree ``(size, root)``."""
        body = Checkpoint(self.origin, size, root).body()
        signature = self.private_key.sign(body.encode())
        blob = base64.b64encode(self.verifier.key_id + signature).decode()
        return f"{body}\n{EM_DASH} {self.verifier.name} {blob}\n"


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """Read the PEM key at ``path``; on first start create it (0600), safely against races."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, pem)
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(temp, path)  # fails if another process created the key meanwhile
        except FileExistsError:
            pass
        finally:
            temp.unlink()
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise CheckpointError(f"{path} does not hold an Ed25519 private key")
    return key


def make_signer(origin: str, key_path: Path) -> Signer:
    key = load_or_create_key(key_path)
    return Signer(origin, key, verifier_key(origin, key.public_key()))


def parse_note(text: str, key: VerifierKey) -> Checkpoint:
    """Check the signature by ``key`` and return the checkpoint it signs."""
    if len(text) > MAX_NOTE_BYTES:
        raise CheckpointError("the checkpoint is too large")
    body, sep, signatures = text.partition("\n\n")
    if not sep or not signatures.endswith("\n"):
        raise CheckpointError("a signed note is a body, a blank line and signature lines")
    body += "\n"
    lines = body[:-1].split("\n")
    if len(lines) < 3:
        raise CheckpointError("a checkpoint body has an origin, a size and a root")
    origin, size_text, root_text = lines[0], lines[1], lines[2]
    if not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
        raise CheckpointError("the checkpoint size is not a decimal number")
    try:
        root = base64.b64decode(root_text, validate=True)
    except ValueError:
        raise CheckpointError("the checkpoint root is not base64") from None
    if len(root) != 32:
        raise CheckpointError("the checkpoint root is not 32 bytes")
    found = False
    for line in signatures[:-1].split("\n"):
        prefix = f"{EM_DASH} {key.name} "
        if not line.startswith(prefix):
            continue
        try:
            blob = base64.b64decode(line[len(prefix) :], validate=True)
        except ValueError:
            raise CheckpointError("a signature line is not base64") from None
        if blob[:4] != key.key_id:
            continue
        try:
            key.public_key.verify(blob[4:], body.encode())
        except InvalidSignature:
            raise CheckpointError("the checkpoint signature is not valid") from None
        found = True
        break
    if not found:
        raise CheckpointError(f"the checkpoint carries no signature by {key.name}")
    if origin != key.name:
        raise CheckpointError(f"the checkpoint origin {origin!r} is not the key's {key.name!r}")
    return Checkpoint(origin, int(size_text), root)
