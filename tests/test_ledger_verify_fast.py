"""The verifier's fast reading of entry lines agrees with a JSON parser, or steps aside.

Each export here is checked three ways: ``_check_block_fast`` (the reading that slices the
chain members out of the entry bytes), ``_check_block_slow`` (line by line, JSON parsing
when in doubt) and the public ``verify_export``. Entries are built to fool a careless
reading: member names and whole fake chain tails inside strings and nested objects, escapes,
and forged documents whose top-level members differ from the text at their end.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from procurement.ledger import merkle
from procurement.ledger.checkpoint import Signer, verifier_key
from procurement.ledger.verify import (
    _ROW,
    VerificationFailure,
    _Block,
    _check_block_fast,
    _check_block_slow,
    entry_line,
    verify_export,
)

FAKE_TAIL = {
    "leaf_index": 99,
    "occurred_at": "2026-01-01T00:00:00Z",
    "ocid": "ocds-fake",
    "prev_hash": None,
    "recorded_at": "2026-01-01T00:00:00Z",
    "seq": 1,
    "type": "completed",
    "v": 1,
}
FAKE_TAIL_TEXT = ',"leaf_index":99,"occurred_at":"x","ocid":"ocds-fake","prev_hash":null,"seq":1'


def _signer() -> Signer:
    key = Ed25519PrivateKey.generate()
    return Signer("test.example/log", key, verifier_key("test.example/log", key.public_key()))


def _document(ocid: str, seq: int, index: int, prev: str | None, data: Any) -> dict[str, Any]:
    return {
        "v": 1,
        "ocid": ocid,
        "seq": seq,
        "leaf_index": index,
        "prev_hash": prev,
        "type": "clarification_published",
        "occurred_at": "2026-11-20T10:00:00Z",
        "recorded_at": "2026-11-20T10:00:01Z",
        "actor": None,
        "data": data,
        "documents": [],
        "findings": [],
    }


TRICKY_DATA: list[Any] = [
    {"summary": 'text with "seq":7 and "prev_hash":null and ,"leaf_index":3, inside'},
    {"summary": FAKE_TAIL_TEXT + ',"type":"t","v":1}}'},
    {"summary": 'escapes \\ " \n \t \u0001 \u2028 and ěščřžýáíé'},
    {"a": 1, **FAKE_TAIL},  # a whole fake chain tail as a nested object
    {"list": [{"z": 0, **FAKE_TAIL}], "seq": 5, "prev_hash": "ab" * 32},
    {"summary": "ends with a backslash \\"},
    {"summary": '\\",\\"leaf_index\\":0,'},
]


def _entries(count: int, ocids: list[str], data: list[Any]) -> list[bytes]:
    heads: dict[str, tuple[int, str | None]] = {}
    out = []
    for index in range(count):
        ocid = ocids[index % len(ocids)]
        seq, prev = heads.get(ocid, (0, None))
        entry = bytes(rfc8785.dumps(_document(ocid, seq + 1, index, prev, data[index % len(data)])))
        heads[ocid] = (seq + 1, hashlib.sha256(entry).hexdigest())
        out.append(entry)
    return out


def _export(signer: Signer, entries: list[bytes], every: int = 5) -> list[bytes]:
    lines = [
        json.dumps(
            {
                "format": "smartsteps-ledger-export",
                "version": 1,
                "origin": signer.origin,
                "public_key": signer.verifier.text(),
                "tree_size": len(entries),
            }
        ).encode()
        + b"\n"
    ]
    frontier = merkle.Frontier()
    checkpoints = 0
    for index, entry in enumerate(entries):
        leaf = merkle.leaf_hash(entry)
        frontier.append(leaf)
        lines.append(entry_line(index, leaf, entry))
        if (index + 1) % every == 0 or index + 1 == len(entries):
            note = signer.sign(frontier.size, frontier.root())
            lines.append(
                json.dumps({"checkpoint": note, "tree_size": frontier.size}).encode() + b"\n"
            )
            checkpoints += 1
    lines.append(
        json.dumps({"end": True, "entries": len(entries), "checkpoints": checkpoints}).encode()
        + b"\n"
    )
    return lines


def _same(fast: _Block, slow: _Block) -> None:
    assert slow.failure is None
    assert (fast.count, fast.base, fast.lines) == (slow.count, slow.base, slow.lines)
    assert fast.chains == slow.chains
    assert fast.nodes == slow.nodes
    assert fast.checkpoints == slow.checkpoints
    assert fast.end == slow.end


def _outcome(lines: list[bytes], key: str) -> str:
    try:
        verify_export(lines, public_key=key)
    except VerificationFailure as failure:
        return f"{failure.where}: {failure.reason}"
    return "ok"


def test_tricky_but_honest_entries_are_read_fast_and_alike() -> None:
    signer = _signer()
    key = signer.verifier.text()
    ocids = ["ocds-a-1", "ocds-a-2", "ocds-a-3"]
    entries = _entries(40, ocids, TRICKY_DATA)
    # The text the fast reading must not take for the chain members is really there.
    assert any(b',"leaf_index":99,"occurred_at"' in entry for entry in entries)
    assert any(b'"seq":7' in entry for entry in entries)
    assert any(b"\\u0001" in entry for entry in entries)
    lines = _export(signer, entries)
    blob = b"".join(lines[1:])
    fast = _check_block_fast(blob, key, ())
    assert fast is not None  # the fast reading handled them all
    _same(fast, _check_block_slow(blob, key, 2, ()))
    assert set(fast.chains) == {ocid.encode() for ocid in ocids}
    assert _outcome(lines, key) == "ok"


def test_escapes_in_the_chain_members_fall_back_to_parsing() -> None:
    signer = _signer()
    key = signer.verifier.text()
    entries = _entries(12, ['ocds-"quoted"', "ocds-back\\slash", "ocds-é"], [{"s": "x"}])
    lines = _export(signer, entries)
    blob = b"".join(lines[1:])
    assert _check_block_fast(blob, key, ()) is None
    assert _check_block_slow(blob, key, 2, ()).failure is None
    report = verify_export(lines, public_key=key)
    assert report.procurements == 3


def _forge(prefix: bytes, tail: dict[str, Any], extra: bytes = b"") -> bytes:
    """A canonical-looking document: ``prefix`` members, then ``tail`` in key order."""
    body = b",".join(
        json.dumps(name).encode() + b":" + json.dumps(value, separators=(",", ":")).encode()
        for name, value in sorted(tail.items())
    )
    return b"{" + prefix + body + extra + b"}"


@pytest.mark.parametrize("case", ["escaped_name", "nested_tail_last", "data_object_tail"])
def test_forged_entries_are_read_as_a_json_parser_reads_them(case: str) -> None:
    """Each forged entry is valid JSON whose own leaf_index is 0, stands at 5, and ends with
    text that a careless reading would take for ``leaf_index 5``: the verifier must say that
    the entry claims leaf_index 0 (what json.loads reads), in the fast and the slow path."""
    signer = _signer()
    key = signer.verifier.text()
    entries = _entries(10, ["ocds-only"], [{"s": "x"}])
    honest = json.loads(entries[5])
    members = {name: honest[name] for name in FAKE_TAIL}
    lying = {**members, "leaf_index": 5}
    own = {**members, "leaf_index": 0}
    start = b'{"actor":null,"data":{"s":"x"},"documents":[],"findings":[],'
    if case == "escaped_name":
        # "leaf_index" 0, then a member named 'leaf_index"' whose name ends in an escaped
        # quote: its text '"leaf_index":5,...' looks like the last leaf_index member.
        forged = start + b'"leaf_index":0,"leaf_index\\' + _forge(b"", lying)[1:]
    elif case == "nested_tail_last":
        # The own members, then a later member holding an object with the lying members.
        forged = _forge(start[1:], own, b',"zz":' + _forge(b'"a":1,', lying))
    else:
        # The lying members in an object inside data, the own ones at the top level.
        forged = _forge(
            b'"actor":null,"data":' + _forge(b'"a":1,', lying) + b',"documents":[],"findings":[],',
            own,
        )
    parsed = json.loads(forged)
    assert parsed["leaf_index"] == 0
    assert parsed["seq"] == honest["seq"]
    assert b'"leaf_index":5' in forged
    # Re-link the chain after the forged entry so that only its leaf_index is wrong.
    relinked = [*entries[:5], forged]
    prev = hashlib.sha256(forged).hexdigest()
    for index in range(6, 10):
        document = json.loads(entries[index])
        document["prev_hash"] = prev
        entry = bytes(rfc8785.dumps(document))
        prev = hashlib.sha256(entry).hexdigest()
        relinked.append(entry)
    lines = _export(signer, relinked)
    blob = b"".join(lines[1:])
    assert _check_block_fast(blob, key, ()) is None
    slow = _check_block_slow(blob, key, 2, ())
    assert slow.failure is not None
    assert "leaf_index 0 but stands at 5" in slow.failure[2]
    assert _outcome(lines, key) == "entry 5: the entry says leaf_index 0 but stands at 5"


def test_a_chain_member_running_past_its_line_is_not_read_fast() -> None:
    """An entry whose occurred_at holds a raw newline, so that the text after it reads as
    the rest of the chain members on the next line: the fast reading's strings may span
    that newline, so it must see it and step aside; as lines, the entry line is cut."""
    signer = _signer()
    key = signer.verifier.text()
    entries = _entries(6, ["ocds-a"], [{"s": "x"}])
    forged = entries[2].replace(b'"occurred_at":"2026-11-20T10:00:00Z"', b'"occurred_at":"2026\n{"')
    assert forged != entries[2]
    # Signed as it stands (a writer with the key), so only the line structure is wrong.
    lines = _export(signer, [*entries[:2], forged], every=3)
    blob = b"".join(lines[1:])
    rows = _ROW.findall(blob)
    assert any(row[4] and b"\n" in row[4] for row in rows)  # one row spans two lines
    assert _check_block_fast(blob, key, ()) is None
    assert _check_block_slow(blob, key, 2, ()).failure is not None
    assert _outcome(lines, key) == "entry 2: line 4 is not well formed"


def test_a_checkpoint_line_holding_entry_text_is_not_taken_for_an_entry() -> None:
    signer = _signer()
    key = signer.verifier.text()
    entries = _entries(6, ["ocds-a"], [{"s": "x"}])
    lines = _export(signer, entries, every=3)
    at = next(i for i, line in enumerate(lines) if line.startswith(b'{"checkpoint"'))
    obj = json.loads(lines[at])
    obj["x"] = json.loads(entries[0])
    lines[at] = json.dumps(obj, separators=(",", ":")).encode() + b"\n"
    blob = b"".join(lines[1:])
    assert _check_block_fast(blob, key, ()) is None
    assert _outcome(lines, key) == "ok"  # the line is still a checkpoint with its note


def test_the_fast_reading_refuses_what_the_slow_one_refuses() -> None:
    """Damage of each kind makes the fast reading step aside (and the slow one fail)."""
    signer = _signer()
    key = signer.verifier.text()
    entries = _entries(20, ["ocds-a", "ocds-b"], TRICKY_DATA)
    lines = _export(signer, entries)
    entry_at = [i for i, line in enumerate(lines) if line.startswith(b'{"leaf_index"')]

    def upper_leaf_hash(line: bytes) -> bytes:
        at = line.index(b'"leaf_hash":"') + 13
        return line[:at] + line[at : at + 64].upper() + line[at + 64 :]

    damages = {
        "byte": (7, lambda line: line.replace(b"clarification", b"clarificatiom", 1)),
        "upper hex": (7, upper_leaf_hash),
        "seq": (9, lambda line: line.replace(b'"seq":5', b'"seq":6', 1)),
        "index": (3, lambda line: line.replace(b'{"leaf_index":3,', b'{"leaf_index":4,', 1)),
        "not json": (7, lambda line: b"{nope}\n"),
    }
    for name, (target, damage) in damages.items():
        damaged = list(lines)
        damaged[entry_at[target]] = damage(lines[entry_at[target]])
        assert damaged[entry_at[target]] != lines[entry_at[target]], name
        blob = b"".join(damaged[1:])
        assert _check_block_fast(blob, key, ()) is None, name
        slow = _check_block_slow(blob, key, 2, ())
        if name == "upper hex":  # the same hash in capitals: the slow reading accepts it
            assert slow.failure is None
            assert _outcome(damaged, key) == "ok"
        else:
            assert slow.failure is not None, name
            assert _outcome(damaged, key) != "ok", name


def test_an_entry_after_the_end_line_is_refused() -> None:
    signer = _signer()
    key = signer.verifier.text()
    entries = _entries(7, ["ocds-a"], [{"s": "x"}])
    lines = _export(signer, entries[:6], every=3)
    lines.append(entry_line(6, merkle.leaf_hash(entries[6]), entries[6]))  # the next one
    blob = b"".join(lines[1:])
    assert _check_block_fast(blob, key, ()) is None
    assert _outcome(lines, key).endswith("content after the end line")


_PIECES = st.sampled_from(
    [
        '"',
        "\\",
        ",",
        ":",
        "{",
        "}",
        "[",
        "]",
        "leaf_index",
        "seq",
        "prev_hash",
        "ocid",
        "v",
        '"leaf_index":',
        ',"leaf_index":1,',
        '"v":1}',
        "null",
        "1",
        "é",
        "\n",
        "\u0000",
        " ",
    ]
)
_TEXT = st.lists(_PIECES, max_size=12).map("".join)
_VALUES = st.recursive(
    st.none() | st.integers(-5, 5) | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=60, deadline=None)
@given(data=st.lists(st.dictionaries(_TEXT, _VALUES, max_size=4), min_size=1, max_size=6))
def test_any_data_is_read_alike_fast_and_slow(data: list[Any]) -> None:
    """Whatever the data holds, the fast reading either steps aside or equals the slow one,
    and the export verifies."""
    signer = _signer()
    key = signer.verifier.text()
    lines = _export(signer, _entries(12, ["ocds-p-1", "ocds-p-2"], data), every=4)
    blob = b"".join(lines[1:])
    fast = _check_block_fast(blob, key, ())
    if fast is not None:
        _same(fast, _check_block_slow(blob, key, 2, ()))
    assert _outcome(lines, key) == "ok"
