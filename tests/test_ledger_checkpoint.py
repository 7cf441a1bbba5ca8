"""Checkpoint notes and verifier keys (C2SP signed-note, Ed25519)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from procurement.ledger.checkpoint import (
    CheckpointError,
    Signer,
    parse_note,
    parse_verifier_key,
    verifier_key,
)


def _signer(name: str = "example.org/log") -> Signer:
    key = Ed25519PrivateKey.generate()
    return Signer(name, key, verifier_key(name, key.public_key()))


def test_verifier_keys_round_trip_even_with_plus_signs_in_base64() -> None:
    for _ in range(64):  # about half of random keys have a "+" in their base64
        signer = _signer()
        parsed = parse_verifier_key(signer.verifier.text())
        assert parsed.raw == signer.verifier.raw
        assert parsed.key_id == signer.verifier.key_id


def test_a_signed_note_reads_back_and_a_changed_one_does_not() -> None:
    signer = _signer()
    note = signer.sign(7, bytes(range(32)))
    assert note.startswith("example.org/log\n7\n")
    assert "\n\n\u2014 example.org/log " in note
    checkpoint = parse_note(note, signer.verifier)
    assert (checkpoint.size, checkpoint.root) == (7, bytes(range(32)))
    for changed in (note.replace("\n7\n", "\n8\n"), note.replace("example.org", "example.net")):
        with pytest.raises(CheckpointError):
            parse_note(changed, signer.verifier)
    with pytest.raises(CheckpointError, match="no signature"):
        parse_note(note, _signer().verifier)


def test_a_verifier_key_with_a_wrong_id_is_refused() -> None:
    name, key_id, blob = _signer().verifier.text().split("+", 2)
    with pytest.raises(CheckpointError):
        parse_verifier_key(f"{name}+{'00' * 4 if key_id != '00000000' else '11' * 4}+{blob}")
