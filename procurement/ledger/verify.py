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
import os
import re
import sys
from binascii import hexlify, unhexlify
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from hashlib import sha256
from typing import Any, BinaryIO

from procurement.ledger.checkpoint import (
    CheckpointError,
    VerifierKey,
    parse_note,
    parse_verifier_key,
)

FORMAT = "smartsteps-ledger-export"
ENTRY_PREFIX = b'{"leaf_index":'
_LEAF_SEP = b',"leaf_hash":"'
_TAIL_KEY = b',"leaf_index":'
_ENTRY_HASH_SEP = b'","entry_hash":"'
_ENTRY_SEP = b'","entry":'
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
_verifier_key = lru_cache(maxsize=8)(parse_verifier_key)  # parsed once per block otherwise


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


Node = tuple[int, int, bytes]  # (level, first leaf, hash) of an aligned perfect subtree
Key = tuple[int, int, int]  # (entries before, 0 line / 1 entry / 2 after entry, line)
# 128 KiB a block in one process: what the fast reading makes of a block (the entry bytes
# copied out, then hashed) stays in the CPU's L2 cache; measured ~10% faster than 1 MiB.
# Worker processes take 1 MiB (fewer, larger messages between processes).
BLOCK_BYTES = 1 << 17
PARALLEL_BLOCK_BYTES = 1 << 20


def _hash_pair(left: bytes, right: bytes) -> bytes:
    return sha256(b"\x01" + left + right).digest()


def _push(stack: list[Node], node: Node) -> None:
    """Append an aligned subtree to a frontier, merging siblings (RFC 9162 subtrees are
    exactly the aligned power-of-two ranges)."""
    level, start, digest = node
    while stack:
        left_level, left_start, left = stack[-1]
        if left_level != level or left_start + (1 << level) != start or left_start % (2 << level):
            break
        stack.pop()
        digest = _hash_pair(left, digest)
        level, start = level + 1, left_start
    stack.append((level, start, digest))


def _fold(stack: list[Node]) -> bytes:
    if not stack:
        return _EMPTY_ROOT
    digest = stack[-1][2]
    for _, _, left in reversed(stack[:-1]):
        digest = _hash_pair(left, digest)
    return digest


def _root_with(stack: list[Node], more: list[Node]) -> bytes:
    merged = list(stack)
    for node in more:
        _push(merged, node)
    return _fold(merged)


def _levels(leaves: list[bytes], base: int) -> list[tuple[int, list[bytes]]]:
    """Every aligned subtree that lies wholly inside [base, base + len(leaves)), by level."""
    levels = [(base, leaves)]
    first, nodes = base, leaves
    while True:
        start = first + (first & 1)
        end = first + len(nodes)
        end -= end & 1
        if end - start < 2:
            return levels
        offset = start - first
        nodes = [
            sha256(b"\x01" + nodes[j] + nodes[j + 1]).digest()
            for j in range(offset, offset + end - start, 2)
        ]
        first = start >> 1
        levels.append((first, nodes))


def _decompose(levels: list[tuple[int, list[bytes]]], lo: int, hi: int) -> list[Node]:
    """The aligned subtrees covering [lo, hi), left to right, from the level lists."""
    out: list[Node] = []
    top = len(levels) - 1
    while lo < hi:
        level = 0
        while level < top and lo % (2 << level) == 0 and lo + (2 << level) <= hi:
            level += 1
        first, nodes = levels[level]
        out.append((level, lo, nodes[(lo >> level) - first]))
        lo += 1 << level
    return out


def _checkpoint_nodes(
    levels: list[tuple[int, list[bytes]]], base: int, pending: list[tuple[Key, int, bytes]]
) -> list[tuple[Key, int, bytes, list[Node]]]:
    """Each checkpoint with the subtrees of the entries since the one before it in the
    block (or the block's start): the merge pushes them onto one frontier in turn."""
    out = []
    last = base
    for where_key, size, root in pending:
        at = base + where_key[0]
        out.append((where_key, size, root, _decompose(levels, last, at)))
        last = at
    return out


@dataclass
class _Block:
    """What a worker found in one block of lines (positions relative to the block)."""

    lines: int = 0
    base: int | None = None
    count: int = 0
    chains: dict[bytes, list[Any]] = field(default_factory=dict)
    nodes: list[Node] = field(default_factory=list)
    checkpoints: list[tuple[Key, int, bytes, list[Node]]] = field(default_factory=list)
    snapshots: dict[int, list[Node]] = field(default_factory=dict)
    end: tuple[Key, Any, Any] | None = None
    failure: tuple[Key, str, str, int | None] | None = None


# The fast reading of a block (see ``_check_block_fast``): one row per line. An entry line
# gives its head (the index, and the two hashes as text: they are compared with the hashes
# computed here, which checks that they are lowercase hex), its entry bytes, and the scalar
# members that end its entry document (RFC 8785 sorts keys, so they follow the nested
# "data", "documents" and "findings"): its own leaf_index equal to the line's, then the rest
# as one group (checked for backslashes and newlines in one pass over the block, cheaper
# than excluding them character by character here), with ocid, prev_hash and seq. Any other
# line gives its text (the last group).
_ROW = re.compile(
    rb'(?:\{"leaf_index":(0|[1-9][0-9]*),"leaf_hash":"([^\n]{64})","entry_hash":"([^\n]{64})",'
    rb'"entry":(\{[^\n]*,"leaf_index":\1(,"occurred_at":"[^"]*","ocid":"([^"]*)",'
    rb'"prev_hash":(?:null|"([^"]{64})"),"recorded_at":"[^"]*",'
    rb'"seq":([1-9][0-9]*),"type":"[^"]*","v":1\}))\}|([^\n]*))\n'
)


def _check_block(
    blob: bytes,
    key_text: str,
    line_base: int,
    wanted_sizes: tuple[int, ...],
    merge: _Merge | None = None,
) -> _Block:
    """Check a block: the fast reading when it holds, else the line by line one (which
    also names the first failure exactly). With ``merge`` (one process) the fast reading
    checks the chains against the merged state directly and updates it."""
    block = _check_block_fast(blob, key_text, wanted_sizes, merge)
    if block is None:
        block = _check_block_slow(blob, key_text, line_base, wanted_sizes)
    return block


def _check_block_fast(
    blob: bytes, key_text: str, wanted_sizes: tuple[int, ...], merge: _Merge | None = None
) -> _Block | None:
    """Check a block with a few passes in C over all its lines; None as soon as anything is
    unusual or wrong (the slow reading then finds and names it).

    Why the reading is sound: ``_ROW`` matches each line whole (its last alternative takes
    any line) and only the strings among the chain members could run past a newline, which
    is checked; so ``findall`` gives one row per line, in order. An entry row's chain
    members start at a comma and a quote, so that quote is not escaped; in a JSON document
    an unescaped quote followed by ``leaf_index":`` opens a member name (a string closed by
    it could not be followed by a letter). The strings after it hold no quote and no
    backslash (checked), so every structural character there is what it looks like, and the
    brace before the line's last one closes the entry document: the members read are the
    document's own top-level members, the last of their names, which is what a JSON parser
    returns (``json.loads`` keeps the last of duplicate names). For the same reason no text
    after them reads ``,"leaf_index":``, so they start where the slow reading's ``rfind``
    finds them. Anything else (escapes in the chain members, another member order, a
    checkpoint line holding entry text) falls back to the slow reading.
    """
    if not blob.endswith(b"\n"):
        return None
    rows = _ROW.findall(blob)
    lines = len(rows)
    entry_rows = rows
    others: list[int] = []
    indexes = [row[0] for row in rows]
    if b"" in indexes:  # lines other than entries (checkpoints, the end line)
        others = [rel for rel, index in enumerate(indexes) if not index]
        entry_rows = [row for row in rows if row[0]]
        indexes = [row[0] for row in entry_rows]
    k = len(entry_rows)
    block = _Block(lines=lines, count=k)
    pending: list[tuple[Key, int, bytes]] = []
    if others:
        key = _verifier_key(key_text)
        for seen, rel in enumerate(others):
            line = rows[rel][8]
            if block.end is not None or line.startswith(ENTRY_PREFIX) or _TAIL_KEY in line:
                return None
            try:
                obj = json.loads(line)
            except ValueError:
                return None
            if not isinstance(obj, dict):
                return None
            where_key = (rel - seen, 0, rel)
            if "checkpoint" in obj:
                note = obj["checkpoint"]
                if not isinstance(note, str):
                    return None
                try:
                    cp = parse_note(note, key)
                except CheckpointError:
                    return None
                if cp.size != obj.get("tree_size"):
                    return None
                pending.append((where_key, cp.size, cp.root))
            elif obj.get("end") is True and rel == lines - 1:
                block.end = (where_key, obj.get("entries"), obj.get("checkpoints"))
            else:  # neither, or lines after the end line
                return None
    if not k:
        block.checkpoints = [(where_key, size, root, []) for where_key, size, root in pending]
        return block
    tails = b"".join([row[4] for row in entry_rows])
    if b"\\" in tails or b"\n" in tails:
        return None  # an escape in the chain members (the slow reading parses them), or a
        # string that ran past the end of its line
    base = int(indexes[0])
    if b" ".join(indexes) + b" " != b"%d " * k % tuple(range(base, base + k)):
        return None
    digests = [sha256(row[3]).digest() for row in entry_rows]
    leaves = [sha256(b"\x00" + row[3]).digest() for row in entry_rows]
    # Lowercase hex as written: the chains compare hex text from here on.
    if hexlify(b"".join(digests)) != b"".join([row[2] for row in entry_rows]):
        return None
    if hexlify(b"".join(leaves)) != b"".join([row[1] for row in entry_rows]):
        return None
    if merge is not None:
        # Against the merged chains (seq, entry hash hex) through an overlay, so that
        # nothing changes unless the whole block holds.
        if base != merge.n or merge.ended:
            return None
        merged = merge.chains
        overlay: dict[bytes, tuple[int, bytes]] = {}
        get_overlay, get_merged = overlay.get, merged.get
        for _, _, entry_hex, _, _, ocid, prev, seq_text, _ in entry_rows:
            seq = int(seq_text)
            last = get_overlay(ocid) or get_merged(ocid)
            if last is None:
                if seq != 1 or prev:
                    return None
            elif prev != last[1] or seq != last[0] + 1:
                return None
            overlay[ocid] = (seq, entry_hex)
        merged.update(overlay)
    else:
        chains: dict[bytes, list[Any]] = {}
        get = chains.get
        for rel, (_, _, entry_hex, _, _, ocid, prev, seq_text, _) in enumerate(entry_rows):
            seq = int(seq_text)
            state = get(ocid)
            if state is None:
                chains[ocid] = [seq, prev or None, rel, seq, entry_hex]
            elif seq != state[3] + 1 or prev != state[4]:
                return None
            else:
                state[3] = seq
                state[4] = entry_hex
        block.chains = chains
    block.base = base
    levels = _levels(leaves, base)
    block.nodes = _decompose(levels, base, base + k)
    block.checkpoints = _checkpoint_nodes(levels, base, pending)
    for size in wanted_sizes:
        if base < size <= base + k:
            block.snapshots[size] = _decompose(levels, base, size)
    return block


def _check_block_slow(
    blob: bytes, key_text: str, line_base: int, wanted_sizes: tuple[int, ...]
) -> _Block:
    """Check every line of a block on its own: entry hashes, indexes, chains inside the
    block, checkpoint signatures; return what the merge needs. Stops at the first failure."""
    key = _verifier_key(key_text)
    lines = blob.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    block = _Block(lines=len(lines))
    leaves: list[bytes] = []
    add_leaf = leaves.append
    chains = block.chains
    match_line = _LINE.match
    match_chain = _CHAIN.fullmatch
    loads = json.loads
    k = 0
    base = -1
    ended = False
    pending: list[tuple[Key, int, bytes]] = []

    def fail(where_key: Key, where: str, reason: str, leaf: int | None = None) -> None:
        block.failure = (where_key, where, reason, leaf)

    for rel, line in enumerate(lines):
        if ended:
            fail((k, 0, rel), f"line {line_base + rel}", "content after the end line")
            break
        m = match_line(line)
        if m is not None:
            found = int(m.group(1))
            if base < 0:
                base = found
            n = base + k
            if found != n:
                fail(
                    (k, 1, rel),
                    f"entry {n}",
                    f"leaf index {found} where {n} was expected "
                    f"({'entries missing' if found > n else 'duplicate or reordered'})",
                    n,
                )
                break
            at = m.end()
            if (
                line[at + 64 : at + 80] != _SEP2
                or line[at + 144 : at + 154] != _SEP3
                or line[-1:] != b"}"
            ):
                fail((k, 1, rel), f"entry {n}", f"line {line_base + rel} is not well formed", n)
                break
            entry = line[at + 154 : -1]
            digest = sha256(entry).digest()
            leaf = sha256(b"\x00" + entry).digest()
            try:
                if unhexlify(line[at + 80 : at + 144]) != digest:
                    fail((k, 1, rel), f"entry {n}", "the entry hash does not match its bytes", n)
                    break
                if unhexlify(line[at : at + 64]) != leaf:
                    fail(
                        (k, 1, rel),
                        f"entry {n}",
                        "the stored leaf hash does not match the entry bytes",
                        n,
                    )
                    break
            except ValueError:
                fail((k, 1, rel), f"entry {n}", "a hash is not hex", n)
                break
            # The chain members are scalars after the nested ones (RFC 8785 sorts keys), so
            # the last ',"leaf_index":' starts them (see _check_block_fast for why the comma
            # and the absence of escapes make this the document's own member).
            tail_at = entry.rfind(_TAIL_KEY) + 1
            c = match_chain(entry, tail_at) if entry.find(b"\\", tail_at) < 0 else None
            try:
                if c is not None:
                    own_text, ocid, prev_hex, seq_text = c.groups()
                    own_index, seq = int(own_text), int(seq_text)
                    prev = unhexlify(prev_hex) if prev_hex is not None else None
                else:
                    own_index, ocid, seq, prev = _chain_slow(entry, n)
            except VerificationFailure as exc:
                fail((k, 1, rel), f"entry {n}", exc.reason, n)
                break
            except ValueError:
                fail((k, 1, rel), f"entry {n}", "prev_hash is not hex", n)
                break
            if own_index != n:
                fail(
                    (k, 1, rel),
                    f"entry {n}",
                    f"the entry says leaf_index {own_index} but stands at {n}",
                    n,
                )
                break
            state = chains.get(ocid)
            if state is None:
                chains[ocid] = [seq, prev, k, seq, digest]
            elif seq != state[3] + 1:
                fail(
                    (k, 1, rel),
                    f"entry {n}",
                    f"{ocid.decode()}: seq {seq} follows seq {state[3]} (expected {state[3] + 1})",
                    n,
                )
                break
            elif prev != state[4]:
                fail(
                    (k, 1, rel),
                    f"entry {n}",
                    f"{ocid.decode()}: prev_hash does not match the entry hash of seq "
                    f"{state[3]} (that step was changed, or this one was forged)",
                    n,
                )
                break
            else:
                state[3] = seq
                state[4] = digest
            add_leaf(leaf)
            k += 1
            continue
        if line.startswith(ENTRY_PREFIX):
            fail(
                (k, 1, rel),
                f"entry {base + k if base >= 0 else '?'}",
                f"line {line_base + rel} is not a well-formed entry",
                None,
            )
            break
        try:
            obj = loads(line)
        except ValueError:
            fail((k, 0, rel), f"line {line_base + rel}", "not JSON")
            break
        if not isinstance(obj, dict):
            fail((k, 0, rel), f"line {line_base + rel}", "not an object")
            break
        if "checkpoint" in obj:
            note = obj["checkpoint"]
            if not isinstance(note, str):
                fail(
                    (k, 0, rel),
                    f"checkpoint at line {line_base + rel}",
                    "the checkpoint is not a string",
                )
                break
            try:
                cp = parse_note(note, key)
            except CheckpointError as exc:
                fail((k, 0, rel), f"checkpoint at line {line_base + rel}", str(exc))
                break
            if cp.size != obj.get("tree_size"):
                fail(
                    (k, 0, rel),
                    f"checkpoint of size {cp.size}",
                    "its size differs from the line's tree_size",
                )
                break
            pending.append(((k, 0, rel), cp.size, cp.root))
            continue
        if obj.get("end") is True:
            block.end = ((k, 0, rel), obj.get("entries"), obj.get("checkpoints"))
            ended = True
            continue
        fail((k, 0, rel), f"line {line_base + rel}", "neither an entry, a checkpoint nor the end")
        break

    block.count = k
    for state in chains.values():  # the merge compares hex text
        state[1] = None if state[1] is None else state[1].hex().encode()
        state[4] = state[4].hex().encode()
    if base >= 0:  # even when its first entry failed: the merge compares it with the next index
        block.base = base
    if k:
        levels = _levels(leaves, base)
        block.nodes = _decompose(levels, base, base + k)
        block.checkpoints = _checkpoint_nodes(levels, base, pending)
        for size in wanted_sizes:
            if base < size <= base + k:
                block.snapshots[size] = _decompose(levels, base, size)
    else:
        block.checkpoints = [(where_key, size, root, []) for where_key, size, root in pending]
    return block


class _Merge:
    """Joins the blocks in order: chains across blocks, the frontier, checkpoint roots."""

    def __init__(self, saved_size: int | None, saved_root: bytes) -> None:
        self.n = 0
        self.stack: list[Node] = []
        self.chains: dict[bytes, tuple[int, bytes]] = {}
        self.last_checkpoint = 0
        self.checkpoints = 0
        self.ended = False
        self.end_seen: tuple[Any, Any] | None = None
        self.saved_size = saved_size
        self.saved_root = saved_root
        self.line_base = 2

    def add(self, block: _Block) -> None:
        n0 = self.n
        candidates: list[tuple[Key, str, str, int | None]] = []
        if block.failure is not None:
            where_key, where, reason, leaf = block.failure
            if where == "entry ?":  # no entry read before it in the block: the next one
                where = f"entry {n0}"
            candidates.append((where_key, where, reason, leaf))
        if self.ended and block.lines:
            candidates.append(
                ((-1, 0, 0), f"line {self.line_base}", "content after the end line", None)
            )
        mismatch = block.base is not None and block.base != n0
        if block.base is not None and mismatch:
            candidates.append(
                (
                    (0, 1, -1),
                    f"entry {n0}",
                    f"leaf index {block.base} where {n0} was expected "
                    f"({'entries missing' if block.base > n0 else 'duplicate or reordered'})",
                    n0,
                )
            )
        else:
            chains = self.chains
            for ocid, (first_seq, first_prev, first_rel, _, _) in block.chains.items():
                state = chains.get(ocid)
                at = n0 + first_rel
                if state is None:
                    if first_seq != 1 or first_prev is not None:
                        candidates.append(
                            (
                                (first_rel, 1, -1),
                                f"entry {at}",
                                f"{ocid.decode()}: the first entry has seq {first_seq} and "
                                f"prev_hash {(first_prev or b'null').decode()} "
                                "(expected seq 1 and null): earlier steps are missing",
                                at,
                            )
                        )
                elif first_seq != state[0] + 1:
                    candidates.append(
                        (
                            (first_rel, 1, -1),
                            f"entry {at}",
                            f"{ocid.decode()}: seq {first_seq} follows seq {state[0]} "
                            f"(expected {state[0] + 1})",
                            at,
                        )
                    )
                elif first_prev != state[1]:
                    candidates.append(
                        (
                            (first_rel, 1, -1),
                            f"entry {at}",
                            f"{ocid.decode()}: prev_hash does not match the entry hash of seq "
                            f"{state[0]} (that step was changed, or this one was forged)",
                            at,
                        )
                    )
        # The checkpoints (with a wrong first index, those before the block's first entry:
        # they come first, and need no entry of the block).
        last_checkpoint, checkpoints = self.last_checkpoint, self.checkpoints
        frontier = list(self.stack)
        for where_key, size, root, since in block.checkpoints:
            if mismatch and where_key[0]:
                break  # after the block's first entry, which is already wrong
            n_at = n0 + where_key[0]
            where = f"checkpoint of size {size}"
            if size > n_at:
                candidates.append(
                    (
                        where_key,
                        where,
                        f"signed for {size} entries but only {n_at} precede it: entries "
                        f"{n_at}..{size - 1} are missing",
                        n_at,
                    )
                )
                break
            if size < n_at or (size <= last_checkpoint and checkpoints):
                candidates.append(
                    (where_key, where, "out of order (it must follow its last entry)", None)
                )
                break
            for node in since:
                _push(frontier, node)
            if _fold(frontier) != root:
                candidates.append(
                    (
                        where_key,
                        where,
                        f"the root of entries 0..{n_at - 1} does not match the signed "
                        f"root: an entry in {last_checkpoint}..{n_at - 1} was changed, or "
                        "the checkpoint replaced",
                        last_checkpoint,
                    )
                )
                break
            last_checkpoint = size
            checkpoints += 1
        if not mismatch:
            saved = self.saved_size
            if saved is not None and saved in block.snapshots:
                if _root_with(self.stack, block.snapshots[saved]) != self.saved_root:
                    candidates.append(
                        (
                            (saved - n0 - 1, 2, -1),
                            f"entries 0..{saved - 1}",
                            f"the first {saved} entries do not match the checkpoint you saved "
                            f"(size {saved}): the log was rewritten since",
                            saved - 1,
                        )
                    )
            if block.end is not None:
                where_key, entries, claimed = block.end
                before = sum(1 for cp in block.checkpoints if cp[0] < where_key)
                if entries != n0 + where_key[0] or claimed != self.checkpoints + before:
                    candidates.append(
                        (
                            where_key,
                            "end line",
                            f"it counts {entries} entries and {claimed} checkpoints; the "
                            f"export holds {n0 + where_key[0]} and {self.checkpoints + before}",
                            None,
                        )
                    )
        if candidates:
            _, where, reason, leaf = min(candidates, key=lambda c: c[0])
            raise VerificationFailure(where, reason, leaf)
        self.n = n0 + block.count
        for ocid, (_, _, _, last_seq, last_digest) in block.chains.items():
            self.chains[ocid] = (last_seq, last_digest)
        for node in block.nodes:
            _push(self.stack, node)
        if block.checkpoints:
            self.last_checkpoint = block.checkpoints[-1][1]
            self.checkpoints += len(block.checkpoints)
        if block.end is not None:
            self.ended = True
        self.line_base += block.lines


def _blobs(lines: Iterator[bytes], size: int = BLOCK_BYTES) -> Iterator[bytes]:
    batch: list[bytes] = []
    held = 0
    for line in lines:
        batch.append(line)
        held += len(line)
        if held >= size:
            yield b"".join(batch)
            batch, held = [], 0
    if batch:
        yield b"".join(batch)


def _file_blobs(handle: BinaryIO, size: int = BLOCK_BYTES) -> Iterator[bytes]:
    """Blocks of whole lines, read without splitting the file into lines here."""
    while True:
        blob = handle.read(size)
        if not blob:
            return
        if not blob.endswith(b"\n"):
            blob += handle.readline()
        yield blob


def _verify(
    header_line: bytes,
    blobs: Iterator[bytes],
    public_key: str | None,
    saved_checkpoint: str | None,
    jobs: int,
) -> Report:
    """Raise VerificationFailure at the first thing that does not hold."""
    report = Report()
    if not header_line:
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

    merge = _Merge(saved_size, saved_root)
    wanted = (saved_size,) if saved_size else ()
    key_text = key.text()
    if jobs > 1:
        _run_parallel(blobs, merge, key_text, wanted, jobs)
    else:
        for blob in blobs:
            merge.add(_check_block(blob, key_text, merge.line_base, wanted, merge))
    n = merge.n
    if not merge.ended:
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
    if n and merge.last_checkpoint != n:
        raise VerificationFailure(
            f"entries {merge.last_checkpoint}..{n - 1}",
            "not covered by any signed checkpoint",
            merge.last_checkpoint,
        )
    report.entries = n
    report.checkpoints = merge.checkpoints
    report.procurements = len(merge.chains)
    report.tree_size = n
    report.root = _fold(merge.stack)
    return report


def _run_parallel(
    blobs: Iterator[bytes], merge: _Merge, key_text: str, wanted: tuple[int, ...], jobs: int
) -> None:
    """Blocks checked by ``jobs`` processes, merged in order; at most 2 x jobs in flight."""
    import multiprocessing
    from collections import deque
    from concurrent.futures import Future, ProcessPoolExecutor

    context = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
    in_flight: deque[Future[_Block]] = deque()
    line_base = 2
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        try:
            for blob in blobs:
                in_flight.append(pool.submit(_check_block, blob, key_text, line_base, wanted))
                line_base += blob.count(b"\n")
                if len(in_flight) >= 2 * jobs:
                    merge.add(in_flight.popleft().result())
            while in_flight:
                merge.add(in_flight.popleft().result())
        finally:
            for future in in_flight:
                future.cancel()


def verify_file(
    path: str | os.PathLike[str],
    public_key: str | None = None,
    saved_checkpoint: str | None = None,
    jobs: int | None = None,
    block_bytes: int | None = None,
) -> Report:
    """Verify an export file; ``jobs`` processes check blocks of it in parallel.

    One process by default: it is the leanest in memory and, on a machine whose cores are
    busy, the fastest; ``jobs`` > 1 pays off on idle cores."""
    if jobs is None:
        jobs = 1
    if block_bytes is None:
        block_bytes = BLOCK_BYTES if jobs == 1 else PARALLEL_BLOCK_BYTES
    with open(path, "rb") as handle:
        header = handle.readline()
        blobs = _file_blobs(handle, block_bytes)
        return _verify(header, blobs, public_key, saved_checkpoint, jobs)


def verify_export(
    lines: Iterable[bytes],
    public_key: str | None = None,
    saved_checkpoint: str | None = None,
) -> Report:
    """Verify an export given as lines (in this process)."""
    iterator = iter(lines)
    header = next(iterator, b"")
    return _verify(header, _blobs(iterator), public_key, saved_checkpoint, 1)


def _chain_slow(entry: bytes, n: int) -> tuple[int, bytes, int, bytes | None]:
    """The chain members of an entry the fast pattern did not read (escapes, other member
    order, more members): the whole document parsed."""
    try:
        chain = json.loads(entry)
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


def _cannot_read(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)  # noqa: T201
    return 2


def _step_of_failure(
    path: str | os.PathLike[str], failure: VerificationFailure
) -> tuple[str, int] | None:
    """(ocid, seq) of the entry a failure names, as that entry reads, for the message: the
    export is read again up to it (only after a failure). None when the failure names no
    single entry or the entry cannot be read."""
    n = failure.leaf_index
    if n is None or failure.where != f"entry {n}":
        return None
    seen = 0
    try:
        with open(path, "rb") as handle:
            for line in handle:
                if not line.startswith(ENTRY_PREFIX):
                    continue
                if seen == n:
                    entry = json.loads(line)["entry"]
                    ocid, seq = entry["ocid"], entry["seq"]
                    if isinstance(ocid, str) and type(seq) is int:
                        return ocid, seq
                    return None
                seen += 1
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return None


def main(argv: list[str] | None = None, prog: str = "python -m procurement.ledger.verify") -> int:
    """``smartsteps verify EXPORT [--public-key K] [--checkpoint C] [--jobs N]`` (also
    ``python -m procurement.ledger.verify``): the offline check, with nothing but the
    standard library and ``cryptography`` loaded. Exit 0 when all holds, 1 at the first bad
    entry or checkpoint (named on standard error), 2 when the files cannot be read."""
    import argparse

    parser = argparse.ArgumentParser(
        prog=prog,
        description="Verify a ledger export offline: hashes, chains, indexes, roots, signatures.",
    )
    parser.add_argument("export", help="a file from 'smartsteps export ledger'")
    parser.add_argument("--public-key", help="the verifier key to trust (its text, or a file)")
    parser.add_argument("--checkpoint", help="a checkpoint you saved earlier (a file)")
    parser.add_argument("--jobs", type=int, default=None, help="processes (default 1)")
    args = parser.parse_args(argv)
    if args.jobs is not None and not 1 <= args.jobs <= 256:
        parser.error("--jobs must lie between 1 and 256")
    key = args.public_key
    try:
        if key is not None and os.path.exists(key):
            with open(key, encoding="utf-8") as handle:
                key = handle.read()
        elif key is not None:
            try:
                parse_verifier_key(key)
            except CheckpointError:
                return _cannot_read(
                    f"--public-key {key}: not found (give the file that holds the verifier "
                    "key, or the key text itself)"
                )
        saved = None
        if args.checkpoint is not None:
            if not os.path.exists(args.checkpoint):
                return _cannot_read(f"--checkpoint {args.checkpoint}: not found")
            with open(args.checkpoint, encoding="utf-8") as handle:
                saved = handle.read()
        if not os.path.exists(args.export):
            return _cannot_read(f"{args.export}: not found")
        report = verify_file(args.export, key, saved, jobs=args.jobs)
    except VerificationFailure as failure:
        message = f"FAILED at {failure.where}: {failure.reason}"
        step = _step_of_failure(args.export, failure)
        if step is not None:
            message += f" (entry {failure.leaf_index} is step {step[1]} of {step[0]})"
        print(message, file=sys.stderr)  # noqa: T201
        return 1
    except (OSError, UnicodeDecodeError) as exc:
        where = getattr(exc, "filename", None)
        reason = getattr(exc, "strerror", None) or str(exc)
        return _cannot_read(f"{where}: {reason}" if where else reason)
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)  # noqa: T201
    saved_text = (
        f"; consistent with your checkpoint of size {report.saved_checkpoint_size}"
        if report.saved_checkpoint_size is not None
        else ""
    )
    print(  # noqa: T201
        f"OK: {report.entries} entries, {report.procurements} procurements, "
        f"{report.checkpoints} signed checkpoints; root {report.root.hex()}{saved_text}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
