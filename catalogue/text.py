"""The Czech text pipeline shared by indexing and querying.

Words are lower-cased and stemmed with snowball's Czech stemmer *before* diacritics are
removed (the stemmer needs them), then reduced to ``[a-z0-9]``. A document is indexed
under each word's unaccented stem and its unaccented form; a query word matches either
as a prefix. Czech drops a "mobile e" when a noun declines (obec -> obce, domek -> domku),
which no stemmer undoes, so a query word ending in e + consonant also matches the
declined forms of the shortened root exactly.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer

_WORD = re.compile(r"\w+", re.UNICODE)
_stemmer = snowballstemmer.stemmer("czech")

# Short function words that would match almost every document as a prefix.
STOP_WORDS = frozenset(
    "a i o u v k s z ve ke se ze na do od po pro za při pri by je to ten ta the of and in".split()
)
# Declension endings tried after a mobile e is dropped (obec -> obc + e/i/emi/ich ...).
_MOBILE_E_ENDINGS = (
    "e",
    "i",
    "u",
    "a",
    "y",
    "em",
    "emi",
    "ich",
    "im",
    "ech",
    "ou",
    "ovi",
    "uv",
    "um",
    "ach",
    "ami",
)
_MOBILE_E = re.compile(r"^(?P<root>[a-z]+[^aeiouy])e(?P<last>[cklnrz])$")
MAX_QUERY_WORDS = 12


def unaccent(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _ascii_token(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", unaccent(text).lower())


@lru_cache(maxsize=65536)
def _word_tokens(word: str) -> tuple[str, ...]:
    lowered = word.lower()
    forms = {
        _ascii_token(_stemmer.stemWord(lowered)),
        _ascii_token(lowered),
        _ascii_token(_stemmer.stemWord(_ascii_token(lowered))),
    }
    return tuple(sorted(f for f in forms if f))


def words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text) if w.lower() not in STOP_WORDS and _ascii_token(w)]


def index_tokens(*texts: str | None) -> str:
    """The space-separated tokens under which a document is indexed."""
    out: list[str] = []
    for text in texts:
        if text:
            for word in words(text):
                out.extend(_word_tokens(word))
    return " ".join(out)


def query_groups(query: str) -> list[tuple[list[str], list[str]]]:
    """For each query word: (prefix terms, exact terms); a document must match every word."""
    groups: list[tuple[list[str], list[str]]] = []
    seen: set[str] = set()
    for word in words(query)[:MAX_QUERY_WORDS]:
        key = _ascii_token(word)
        if key in seen:
            continue
        seen.add(key)
        prefixes = list(_word_tokens(word))
        exact: list[str] = []
        match = _MOBILE_E.match(key)
        if match:
            root = match["root"] + match["last"]
            exact = [root + ending for ending in _MOBILE_E_ENDINGS]
        groups.append((prefixes, exact))
    return groups


def fts5_query(groups: list[tuple[list[str], list[str]]]) -> str:
    """An FTS5 MATCH expression (every term is [a-z0-9]+, quoted)."""
    parts = []
    for prefixes, exact in groups:
        terms = [f'"{t}"*' for t in prefixes] + [f'"{t}"' for t in exact]
        parts.append("(" + " OR ".join(terms) + ")")
    return " AND ".join(parts)


def tsquery(groups: list[tuple[list[str], list[str]]]) -> str:
    """A PostgreSQL to_tsquery('simple', ...) expression with the same meaning."""
    parts = []
    for prefixes, exact in groups:
        terms = [f"{t}:*" for t in prefixes] + list(exact)
        parts.append("(" + " | ".join(terms) + ")")
    return " & ".join(parts)


def normalized_name(name: str) -> str:
    """Lower-case, unaccented, single-spaced: for prefix search over names."""
    return " ".join(_ascii_token(w) for w in _WORD.findall(name) if _ascii_token(w))


def tag_token(kind: str, value: str) -> str:
    """The index token of one filter value (``area``/``mobility`` -> ``area6d6f...``): the
    kind, then the value's UTF-8 bytes in hex, so every value has one exact token."""
    return kind + value.encode().hex()


@lru_cache(maxsize=65536)
def tag_value(token: str, kinds: tuple[str, ...]) -> tuple[str, str] | None:
    """``(kind, value)`` of a tag token of one of ``kinds``, or None."""
    for kind in kinds:
        if token.startswith(kind):
            try:
                return kind, bytes.fromhex(token[len(kind) :]).decode()
            except ValueError:
                continue
    return None
