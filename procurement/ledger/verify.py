"""The offline verifier of a ledger export (standard library and ``cryptography`` only).

It streams the export once, in memory O(log n + number of procurements): it re-hashes
every entry (the bytes as given, never re-serialised), checks the stored leaf and entry
hashes, the leaf indexes (contiguous, and each entry's own ``leaf_index``), each
procurement's chain (``seq`` 1, 2, ... and ``prev_hash`` = the previous entry hash),
recomputes the Merkle root at every checkpoint and checks its Ed25519 signature against a
pinned key, and checks consistency with a checkpoint the auditor saved earlier. The first
failure stops it and names the entry (or the checkpoint) where it was found.

Export format (JSON Lines, one object per line, UTF-8)::

    {"format":"smartsteps-ledger-export","version":1,"origin":...,"public_key":...,
     "tree_size":N,"exported_at":...}
    {"leaf_index":0,"leaf_hash":"<hex>","entry_hash":"<hex>","entry":<entry bytes verbatim>}
    ...
    {"checkpoint":"<signed note>","tree_size":S}      (right after the entry S-1)
    ...
    {"end":true,"entries":N,"checkpoints":C}
"""

from __future__ import annotations

import json
import re
from binascii import unhexlify
from collections.abc import Iterable
from dataclasses import dataclass, field
from hashlib import sha256
from typing import Any

from procurement.ledger.checkpoint import (
    CheckpointError,
    VerifierKey,
    parse_note,
    parse_verifier_key,
)

FORMAT = "smartsteps-ledger-export"
ENTRY_PREFIX = b'{"leaf_index":'
_LEAF_SEP = b',"leaf_hash":"'
_ENTRY_HASH_SEP = b'","entry_hash":"'
_ENTRY_SEP = b'","entry":'
_CHAIN_KEY = b'"leaf_index":'
_LINE = re.compile(rb'\{"leaf_index":(0|[1-9][0-9]*),"leaf_hash":"')
# The canonical tail of an entry document: its scalar members after the nested ones. Used
# only on tails without a backslash, where this reading and a JSON parser's agree.
_CHAIN = re.compile(
    rb'"leaf_index":(0|[1-9][0-9]*),"occurred_at":"[^"]*","ocid":"([^"]*)",'
    rb'"prev_hash":(?:null|"([0-9a-f]*)"),"recorded_at":"[^"]*",'
    rb'"seq":([1-9][0-9]*),"type":"[^"]*","v":1\}'
)
_SEP2 = b'","entry_hash":"'
_SEP3 = b'","entry":'
_EMPTY_ROOT = sha256(b"").digest()


def entry_line(leaf_index: int, leaf_hash: bytes, entry_bytes: bytes) -> bytes:
    """One export line: the stored bytes embedded verbatim (they are canonical JSON)."""
    return b"".join(
        (
            ENTRY_PREFIX,
            str(leaf_index).encode(),
            _LEAF_SEP,
            leaf_hash.hex().encode(),
            _ENTRY_HASH_SEP,
            sha256(entry_bytes).hexdigest().encode(),
            _ENTRY_SEP,
            entry_bytes,
            b"}\n",
        )
    )


class VerificationFailure(Exception):
    """The export does not verify; ``where`` names the first bad entry or checkpoint."""

    def __init__(self, where: str, reason: str, leaf_index: int | None = None) -> None:
        super().__init__(f"{where}: {reason}")
        self.where = where
        self.reason = reason
        self.leaf_index = leaf_index


@dataclass
class Report:
    entries: int = 0
    checkpoints: int = 0
    procurements: int = 0
    tree_size: int = 0
    root: bytes = _EMPTY_ROOT
    key: str = ""
    key_pinned: bool = False
    saved_checkpoint_size: int | None = None
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "entries": self.entries,
            "checkpoints": self.checkpoints,
            "procurements": self.procurements,
            "tree_size": self.tree_size,
            "root": self.root.hex(),
            "public_key": self.key,
            "key_pinned": self.key_pinned,
            "saved_checkpoint_size": self.saved_checkpoint_size,
            "warnings": self.warnings,
        }


def _root(stack: list[bytes]) -> bytes:
    if not stack:
        return _EMPTY_ROOT
    node = stack[-1]
    for left in reversed(stack[:-1]):
        node = sha256(b"\x01" + left + node).digest()
    return node


def verify_export(
    lines: Iterable[bytes],
    public_key: str | None = None,
    saved_checkpoint: str | None = None,
) -> Report:
    """Verify an export; raise VerificationFailure at the first thing that does not hold."""
    report = Report()
    iterator = iter(lines)
    header_line = next(iterator, None)
    if header_line is None:
        raise VerificationFailure("line 1", "the export is empty")
    try:
        header = json.loads(header_line)
        if header.get("format") != FORMAT or header.get("version") != 1:
            raise ValueError
        declared_size = int(header["tree_size"])
        header_key_text = str(header["public_key"])
    except (ValueError, KeyError, TypeError, AttributeError):
        raise VerificationFailure("line 1", f"not a {FORMAT} version 1 header") from None
    try:
        if public_key is not None:
            key = parse_verifier_key(public_key)
            report.key_pinned = True
            if header_key_text.strip() != key.text():
                raise VerificationFailure(
                    "header", "the export names another signing key than the pinned one"
                )
        else:
            key = parse_verifier_key(header_key_text)
            report.warnings.append(
                "no public key pinned: the key named in the export was trusted; pin it with "
                "--public-key to detect a log re-signed with another key"
            )
    except CheckpointError as exc:
        raise VerificationFailure("public key", str(exc)) from None
    report.key = key.text()

    saved_size: int | None = None
    saved_root = b""
    if saved_checkpoint is not None:
        try:
            saved = parse_note(saved_checkpoint, key)
        except CheckpointError as exc:
            raise VerificationFailure("saved checkpoint", str(exc)) from None
        saved_size, saved_root = saved.size, saved.root
        report.saved_checkpoint_size = saved_size
        if saved_size == 0 and saved_root != _EMPTY_ROOT:
            raise VerificationFailure("saved checkpoint", "size 0 with a non-empty root")

    n = 0  # entries seen so far = the next expected leaf index
    stack: list[bytes] = []
    chains: dict[bytes, tuple[int, bytes]] = {}
    last_checkpoint = 0
    checkpoints = 0
    ended = False
    loads = json.loads
    line_no = 1
    match_line = _LINE.match
    match_chain = _CHAIN.fullmatch
    pop = stack.pop
    push = stack.append

    for line in iterator:
        line_no += 1
        if ended:
            raise VerificationFailure(f"line {line_no}", "content after the end line")
        m = match_line(line)
        if m is not None:
            if int(m.group(1)) != n:
                found = int(m.group(1))
                raise VerificationFailure(
                    f"entry {n}",
                    f"leaf index {found} where {n} was expected "
                    f"({'entries missing' if found > n else 'duplicate or reordered'})",
                    n,
                )
            at = m.end()
            if (
                line[at + 64 : at + 80] != _SEP2
                or line[at + 144 : at + 154] != _SEP3
                or line[-2:] != b"}\n"
            ):
                raise VerificationFailure(f"entry {n}", f"line {line_no} is not well formed", n)
            entry = line[at + 154 : -2]
            digest = sha256(entry).digest()
            leaf = sha256(b"\x00" + entry).digest()
            try:
                if unhexlify(line[at + 80 : at + 144]) != digest:
                    raise VerificationFailure(
                        f"entry {n}", "the entry hash does not match its bytes", n
                    )
                if unhexlify(line[at : at + 64]) != leaf:
                    raise VerificationFailure(
                        f"entry {n}", "the stored leaf hash does not match the entry bytes", n
                    )
            except ValueError:
                raise VerificationFailure(f"entry {n}", "a hash is not hex", n) from None
            # The chain members are scalars after the nested ones (RFC 8785 sorts keys), so
            # the last '"leaf_index":' starts them.
            tail_at = entry.rfind(_CHAIN_KEY)
            c = match_chain(entry, tail_at) if entry.find(b"\\", tail_at) < 0 else None
            if c is not None:
                own_text, ocid, prev_hex, seq_text = c.groups()
                own_index = int(own_text)
                seq = int(seq_text)
                prev = unhexlify(prev_hex) if prev_hex is not None else None
            else:
                own_index, ocid, seq, prev = _chain_slow(entry, n)
            if own_index != n:
                raise VerificationFailure(
                    f"entry {n}", f"the entry says leaf_index {own_index} but stands at {n}", n
                )
            state = chains.get(ocid)
            if state is None:
                if seq != 1 or prev is not None:
                    raise VerificationFailure(
                        f"entry {n}",
                        f"{ocid.decode()}: the first entry has seq {seq} and prev_hash "
                        f"{'null' if prev is None else prev.hex()} (expected seq 1 and null): "
                        "earlier steps are missing",
                        n,
                    )
            elif seq != state[0] + 1:
                raise VerificationFailure(
                    f"entry {n}",
                    f"{ocid.decode()}: seq {seq} follows seq {state[0]} (expected {state[0] + 1})",
                    n,
                )
            elif prev != state[1]:
                raise VerificationFailure(
                    f"entry {n}",
                    f"{ocid.decode()}: prev_hash does not match the entry hash of seq "
                    f"{state[0]} (that step was changed, or this one was forged)",
                    n,
                )
            chains[ocid] = (seq, digest)
            # The right frontier: merge the subtrees this leaf completes.
            s = n
            while s & 1:
                leaf = sha256(b"\x01" + pop() + leaf).digest()
                s >>= 1
            push(leaf)
            n += 1
            if n == saved_size and _root(stack) != saved_root:
                raise VerificationFailure(
                    f"entries 0..{n - 1}",
                    f"the first {n} entries do not match the checkpoint you saved (size "
                    f"{n}): the log was rewritten since",
                    n - 1,
                )
            continue
        if line.startswith(ENTRY_PREFIX):
            raise VerificationFailure(f"entry {n}", f"line {line_no} is not a well-formed entry", n)
        # Checkpoints and the end line are rare: parse them fully.
        try:
            obj = loads(line)
        except ValueError:
            raise VerificationFailure(f"line {line_no}", "not JSON") from None
        if not isinstance(obj, dict):
            raise VerificationFailure(f"line {line_no}", "not an object")
        if "checkpoint" in obj:
            note = obj["checkpoint"]
            where = f"checkpoint at line {line_no}"
            if not isinstance(note, str):
                raise VerificationFailure(where, "the checkpoint is not a string")
            try:
                cp = parse_note(note, key)
            except CheckpointError as exc:
                raise VerificationFailure(where, str(exc)) from None
            where = f"checkpoint of size {cp.size}"
            if cp.size != obj.get("tree_size"):
                raise VerificationFailure(where, "its size differs from the line's tree_size")
            if cp.size > n:
                raise VerificationFailure(
                    where,
                    f"signed for {cp.size} entries but only {n} precede it: entries "
                    f"{n}..{cp.size - 1} are missing",
                    n,
                )
            if cp.size < n or cp.size <= last_checkpoint and checkpoints:
                raise VerificationFailure(where, "out of order (it must follow its last entry)")
            if _root(stack) != cp.root:
                raise VerificationFailure(
                    where,
                    f"the root of entries 0..{n - 1} does not match the signed root: an entry "
                    f"in {last_checkpoint}..{n - 1} was changed, or the checkpoint replaced",
                    last_checkpoint,
                )
            last_checkpoint = cp.size
            checkpoints += 1
            continue
        if obj.get("end") is True:
            if obj.get("entries") != n or obj.get("checkpoints") != checkpoints:
                raise VerificationFailure(
                    "end line",
                    f"it counts {obj.get('entries')} entries and {obj.get('checkpoints')} "
                    f"checkpoints; the export holds {n} and {checkpoints}",
                )
            ended = True
            continue
        raise VerificationFailure(f"line {line_no}", "neither an entry, a checkpoint nor the end")

    if not ended:
        raise VerificationFailure(f"after entry {n - 1}", "the export is cut (no end line)", n)
    if declared_size != n:
        raise VerificationFailure(
            f"entry {min(n, declared_size)}",
            f"the log head says {declared_size} entries; the export holds {n}",
            min(n, declared_size),
        )
    if saved_size is not None and saved_size > n:
        raise VerificationFailure(
            f"entry {n}",
            f"the checkpoint you saved has {saved_size} entries; the log now has only {n}: "
            "entries were removed",
            n,
        )
    if n and last_checkpoint != n:
        raise VerificationFailure(
            f"entries {last_checkpoint}..{n - 1}",
            "not covered by any signed checkpoint",
            last_checkpoint,
        )
    report.entries = n
    report.checkpoints = checkpoints
    report.procurements = len(chains)
    report.tree_size = n
    report.root = _root(stack)
    return report


def _chain_slow(entry: bytes, n: int) -> tuple[int, bytes, int, bytes | None]:
    """The chain members of an entry the fast pattern did not read (escapes, new members)."""
    try:
        tail = entry[entry.rindex(_CHAIN_KEY) :]
        # A '"leaf_index":' inside a nested object would leave its closing brackets
        # unbalanced, so the tail only parses when the match is the top-level member.
        chain = json.loads(b"{" + tail)
        own_index, ocid, seq = chain["leaf_index"], chain["ocid"], chain["seq"]
        prev, version = chain["prev_hash"], chain["v"]
    except (ValueError, KeyError, TypeError):
        raise VerificationFailure(
            f"entry {n}", "not an entry document (its chain members are unreadable)", n
        ) from None
    if (
        version != 1
        or type(own_index) is not int
        or type(seq) is not int
        or type(ocid) is not str
        or not (prev is None or (isinstance(prev, str) and len(prev) == 64))
    ):
        raise VerificationFailure(f"entry {n}", "unknown entry version or bad chain members", n)
    try:
        prev_bytes = bytes.fromhex(prev) if prev is not None else None
    except ValueError:
        raise VerificationFailure(f"entry {n}", "prev_hash is not hex", n) from None
    return own_index, ocid.encode(), seq, prev_bytes


def public_key_of(key: VerifierKey) -> str:
    return key.text()
