"""RFC 9162 Merkle tree hashing, proofs and their verification (pure; stdlib only).

Nodes are addressed as ``(level, index)``: the perfect subtree of ``2**level`` leaves
starting at leaf ``index << level``; level 0 is a leaf hash. Proofs are built from such
perfect subtrees only, so a store of completed subtrees answers them with O(log n) reads.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeKey = tuple[int, int]
NodeGetter = Callable[[int, int], bytes]


class ProofError(ValueError):
    """A proof, size or index that cannot be right."""


def leaf_hash(entry_bytes: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry_bytes).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


class Frontier:
    """The right frontier of a growing tree: one hash per perfect subtree (size's set bits).

    Appending costs one hash per completed subtree (amortised one); the root folds at most
    log2(n) hashes. Memory is O(log n).
    """

    __slots__ = ("hashes", "size")

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        if len(hashes) != size.bit_count():
            raise ValueError("a frontier has one hash per set bit of the size")
        self.size = size
        self.hashes = list(hashes)

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add a leaf hash; return the interior nodes it completed as (level, index, hash)."""
        hashes = self.hashes
        completed: list[tuple[int, int, bytes]] = []
        size = self.size
        node = leaf
        level = 0
        while size & 1:
            node = hashlib.sha256(b"\x01" + hashes.pop() + node).digest()
            size >>= 1
            level += 1
            completed.append((level, size, node))
        hashes.append(node)
        self.size += 1
        return completed

    def root(self) -> bytes:
        hashes = self.hashes
        if not hashes:
            return EMPTY_ROOT
        node = hashes[-1]
        for left in reversed(hashes[:-1]):
            node = hashlib.sha256(b"\x01" + left + node).digest()
        return node

    def pack(self) -> bytes:
        return b"".join(self.hashes)

    @classmethod
    def unpack(cls, size: int, packed: bytes | None) -> Frontier:
        packed = packed or b""
        hashes = [packed[i : i + HASH_SIZE] for i in range(0, len(packed), HASH_SIZE)]
        return cls(size, hashes)


def root_of(leaves: Iterable[bytes]) -> bytes:
    """The root over these leaf hashes."""
    frontier = Frontier()
    for leaf in leaves:
        frontier.append(leaf)
    return frontier.root()


# --- proof generation over a store of perfect subtrees ------------------------------------


def _subtree(lo: int, hi: int, get: NodeGetter) -> bytes:
    n = hi - lo
    if n & (n - 1) == 0:
        level = n.bit_length() - 1
        return get(level, lo >> level)
    k = _split(n)
    return node_hash(_subtree(lo, lo + k, get), _subtree(lo + k, hi, get))


def _path(index: int, lo: int, hi: int, get: NodeGetter) -> list[bytes]:
    proof: list[bytes] = []
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            proof.append(_subtree(lo + k, hi, get))
            hi = lo + k
        else:
            proof.append(_subtree(lo, lo + k, get))
            lo = lo + k
    proof.reverse()
    return proof


def _subproof(m: int, lo: int, hi: int, whole: bool, get: NodeGetter) -> list[bytes]:
    proof: list[bytes] = []
    while True:
        n = hi - lo
        if m == n:
            if not whole:
                proof.append(_subtree(lo, hi, get))
            break
        k = _split(n)
        if m <= k:
            proof.append(_subtree(lo + k, hi, get))
            hi = lo + k
        else:
            proof.append(_subtree(lo, lo + k, get))
            lo, m, whole = lo + k, m - k, False
    proof.reverse()
    return proof


def check_inclusion_args(index: int, size: int) -> None:
    if size < 1 or not 0 <= index < size:
        raise ProofError(f"leaf index {index} is not in a tree of size {size}")


def check_consistency_args(first: int, second: int) -> None:
    if not 0 < first <= second:
        raise ProofError(f"no consistency proof from size {first} to size {second}")


def inclusion_proof(index: int, size: int, get: NodeGetter) -> list[bytes]:
    """RFC 9162 PATH(index, D[size])."""
    check_inclusion_args(index, size)
    return _path(index, 0, size, get)


def consistency_proof(first: int, second: int, get: NodeGetter) -> list[bytes]:
    """RFC 9162 PROOF(first, D[second]); empty when the sizes are equal."""
    check_consistency_args(first, second)
    if first == second:
        return []
    return _subproof(first, 0, second, True, get)


def tree_root(size: int, get: NodeGetter) -> bytes:
    if size == 0:
        return EMPTY_ROOT
    return _subtree(0, size, get)


def nodes_needed(compute: Callable[[NodeGetter], object]) -> set[NodeKey]:
    """The perfect subtrees a computation reads (run it once against a recorder)."""
    wanted: set[NodeKey] = set()

    def record(level: int, index: int) -> bytes:
        wanted.add((level, index))
        return bytes(HASH_SIZE)

    compute(record)
    return wanted


def getter(nodes: Mapping[NodeKey, bytes]) -> NodeGetter:
    def get(level: int, index: int) -> bytes:
        try:
            return nodes[(level, index)]
        except KeyError:
            raise LookupError(f"node {level}/{index} is not stored") from None

    return get


# --- verification (RFC 9162 section 2.1.3.2 and 2.1.4.2) ----------------------------------


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Raise ProofError unless ``proof`` shows leaf ``index`` in the tree ``(size, root)``."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is not in a tree of size {size}")
    if len(leaf) != HASH_SIZE or len(root) != HASH_SIZE:
        raise ProofError("hashes are 32 bytes")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if len(p) != HASH_SIZE:
            raise ProofError("proof hashes are 32 bytes")
        if sn == 0:
            raise ProofError("the proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the proof is too short")
    if r != root:
        raise ProofError("the proof does not lead to the root")


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> None:
    """Raise ProofError unless ``proof`` shows tree ``first`` is a prefix of tree ``second``."""
    if first < 0 or second < first:
        raise ProofError(f"no consistency from size {first} to size {second}")
    if first == 0 and (second != 0 or first_root != EMPTY_ROOT):
        # Nothing to prove from the empty tree; a claim about it is refused as meaningless.
        raise ProofError("a consistency proof starts from a tree of at least one leaf")
    if first == second:
        if proof:
            raise ProofError("equal sizes take an empty proof")
        if first_root != second_root:
            raise ProofError("equal sizes with different roots")
        return
    if len(first_root) != HASH_SIZE or len(second_root) != HASH_SIZE:
        raise ProofError("hashes are 32 bytes")
    if any(len(p) != HASH_SIZE for p in proof):
        raise ProofError("proof hashes are 32 bytes")
    if not proof:
        raise ProofError("the proof is empty")
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the proof is too short")
    if fr != first_root:
        raise ProofError("the proof does not lead to the first root")
    if sr != second_root:
        raise ProofError("the proof does not lead to the second root")
