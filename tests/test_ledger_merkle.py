"""RFC 9162 proofs: the 196 public vectors and Hypothesis properties."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from procurement.ledger import merkle
from tests.conftest import TEST_DATA

VECTORS = sorted((TEST_DATA / "merkle-vectors" / "testdata").rglob("*.json"))


def _b64(value: str) -> bytes:
    return base64.b64decode(value)


def test_all_196_vectors_are_present() -> None:
    assert len(VECTORS) == 196


@pytest.mark.parametrize("path", VECTORS, ids=lambda p: str(p.relative_to(p.parents[2])))
def test_vector(path: Path) -> None:
    vector = json.loads(path.read_text())
    proof = [_b64(p) for p in vector["proof"] or []]
    try:
        if "leafIdx" in vector:
            merkle.verify_inclusion(
                _b64(vector["leafHash"]),
                vector["leafIdx"],
                vector["treeSize"],
                proof,
                _b64(vector["root"]),
            )
        else:
            merkle.verify_consistency(
                vector["size1"],
                vector["size2"],
                _b64(vector["root1"]),
                _b64(vector["root2"]),
                proof,
            )
    except merkle.ProofError:
        accepted = False
    else:
        accepted = True
    assert accepted is not vector["wantErr"], vector["desc"]


def _leaves(n: int) -> list[bytes]:
    return [merkle.leaf_hash(str(i).encode()) for i in range(n)]


def _reference_root(leaves: list[bytes]) -> bytes:
    """RFC 9162 MTH, straight from its recursive definition."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return merkle.node_hash(_reference_root(leaves[:k]), _reference_root(leaves[k:]))


def _store(leaves: list[bytes]) -> dict[tuple[int, int], bytes]:
    frontier = merkle.Frontier()
    nodes: dict[tuple[int, int], bytes] = {}
    for i, leaf in enumerate(leaves):
        nodes[(0, i)] = leaf
        for level, index, digest in frontier.append(leaf):
            nodes[(level, index)] = digest
    return nodes


@given(st.integers(min_value=0, max_value=70))
@settings(max_examples=60, deadline=None)
def test_frontier_root_equals_the_recursive_definition(n: int) -> None:
    leaves = _leaves(n)
    assert merkle.root_of(leaves) == _reference_root(leaves)
    assert merkle.tree_root(n, merkle.getter(_store(leaves))) == _reference_root(leaves)


@given(st.data())
@settings(max_examples=80, deadline=None)
def test_inclusion_round_trip_and_every_flipped_bit_is_rejected(data: st.DataObject) -> None:
    size = data.draw(st.integers(min_value=1, max_value=300), label="size")
    index = data.draw(st.integers(min_value=0, max_value=size - 1), label="index")
    leaves = _leaves(size)
    get = merkle.getter(_store(leaves))
    root = merkle.tree_root(size, get)
    proof = merkle.inclusion_proof(index, size, get)
    merkle.verify_inclusion(leaves[index], index, size, proof, root)

    which = data.draw(st.sampled_from(["leaf", "proof", "root", "index", "size"]), label="part")
    bit = data.draw(st.integers(min_value=0, max_value=255), label="bit")
    leaf, bad_proof, bad_root, bad_index, bad_size = leaves[index], list(proof), root, index, size
    if which == "leaf":
        leaf = _flip(leaf, bit)
    elif which == "root":
        bad_root = _flip(root, bit)
    elif which == "proof":
        if not proof:
            return
        k = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
        bad_proof[k] = _flip(proof[k], bit)
    elif which == "index":
        bad_index = index ^ (1 << (bit % 10))
    else:
        bad_size = size ^ (1 << (bit % 10))
        if _depth(bad_size) == _depth(size):
            # RFC 9162 verification binds the size only through the tree's shape; the
            # signed checkpoint binds (size, root) together, so only other depths must fail.
            return
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(leaf, bad_index, bad_size, bad_proof, bad_root)


def _depth(size: int) -> int:
    return (size - 1).bit_length()


@given(st.data())
@settings(max_examples=80, deadline=None)
def test_consistency_round_trip_and_every_flipped_bit_is_rejected(data: st.DataObject) -> None:
    second = data.draw(st.integers(min_value=1, max_value=300), label="second")
    first = data.draw(st.integers(min_value=1, max_value=second), label="first")
    leaves = _leaves(second)
    get = merkle.getter(_store(leaves))
    root1, root2 = merkle.tree_root(first, get), merkle.tree_root(second, get)
    proof = merkle.consistency_proof(first, second, get)
    merkle.verify_consistency(first, second, root1, root2, proof)

    which = data.draw(st.sampled_from(["proof", "root1", "root2", "first", "second"]))
    bit = data.draw(st.integers(min_value=0, max_value=255), label="bit")
    args = [first, second, root1, root2, list(proof)]
    if which == "proof":
        if not proof:
            return
        k = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
        args[4][k] = _flip(proof[k], bit)  # type: ignore[index]
    elif which == "root1":
        args[2] = _flip(root1, bit)
    elif which == "root2":
        args[3] = _flip(root2, bit)
    elif which == "first":
        args[0] = first ^ (1 << (bit % 10))
        if _depth(args[0]) == _depth(first):  # type: ignore[arg-type]
            return  # as above: the size is bound to its root by the signed checkpoint
    else:
        args[1] = second ^ (1 << (bit % 10))
        if _depth(args[1]) == _depth(second):  # type: ignore[arg-type]
            return
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(*args)  # type: ignore[arg-type]


def test_impossible_arguments_are_refused() -> None:
    get = merkle.getter(_store(_leaves(4)))
    for index, size in [(4, 4), (-1, 4), (0, 0)]:
        with pytest.raises(merkle.ProofError):
            merkle.inclusion_proof(index, size, get)
    for first, second in [(0, 4), (5, 4), (-1, 2)]:
        with pytest.raises(merkle.ProofError):
            merkle.consistency_proof(first, second, get)


def _flip(value: bytes, bit: int) -> bytes:
    out = bytearray(value)
    out[(bit // 8) % len(out)] ^= 1 << (bit % 8)
    return bytes(out)
