"""The buyer profile's words and what they mean in the trail: procedure kinds, states,
subjects, document types and deadline kinds, each as a table.

Values are compared normalised (lower case, without diacritics, single spaces): exports
are typed by many systems and people. A value no table knows is reported by the import,
never guessed.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Literal

_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=4096)  # the same kinds, states and types recur in every part
def normalise(text: str) -> str:
    """Lower case, diacritics removed, runs of white space as one space."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", stripped).strip().lower()


# --- procedure kinds (druh_zadavaciho_postupu; druh_zadavaciho_rizeni in 2016) ------------

PROCEDURE_KINDS: dict[str, str] = {
    "otevrene rizeni": "open",
    "uzsi rizeni": "restricted",
    # A dynamic purchasing system is set up in a restricted procedure (§ 139 ZZVZ).
    "zavedeni dns v uzsim rizeni": "restricted",
    "jednaci rizeni s uverejnenim": "negotiated_with_publication",
    "jednaci rizeni bez uverejneni": "negotiated_without_publication",
    "soutezni dialog": "competitive_dialogue",
    "rizeni se souteznim dialogem": "competitive_dialogue",
    "rizeni o inovacnim partnerstvi": "innovation_partnership",
    "zjednodusene podlimitni rizeni": "simplified_below_threshold",
    "koncesni rizeni": "concession",
    "soutez o navrh": "design_contest",
    "prime zadani": "small_scale",
    "zakazka maleho rozsahu": "small_scale",
    "verejna zakazka maleho rozsahu": "small_scale",
    "vzmr": "small_scale",
}
# Small-scale purchases come with many qualifiers ("VZMR - výzva více dodavatelům",
# "zakázka malého rozsahu (otevřená výzva)"): these prefixes are small_scale whatever follows.
SMALL_SCALE_PREFIXES = (
    "vzmr ",
    "vzmr-",
    "zakazka maleho rozsahu ",
    "verejna zakazka maleho rozsahu ",
)
# Known kinds that no procedure of the trail fits: reported with this reason.
UNSUPPORTED_PROCEDURE_KINDS: dict[str, str] = {
    "zjednoduseny rezim": "the simplified regime (§ 129) is no procedure of the trail",
    "zakazka zadana na zaklade vyjimky": "a contract under an exemption (§§ 29-30) is no "
    "procedure of the trail",
    "minitendr (zadani na zaklade ramcove dohody)": "a call-off under a framework agreement "
    "is no procedure of the trail",
    "nakup v dynamickem nakupnim systemu": "a purchase in a dynamic purchasing system is no "
    "procedure of the trail",
    "jednaci rizeni s uverejnenim (bez uverejneni) - §61 odst. 3": "the § 61(3) variant has no "
    "procedure of its own in the trail",
    "vyber poddodavatele": "the selection of a subcontractor is no procedure of the trail",
    "system kvalifikace": "a qualification system is no procedure of the trail",
}


def procedure_for(kind: str) -> str | None:
    """The trail's procedure id for a procedure kind, or None when no table knows it."""
    key = normalise(kind)
    found = PROCEDURE_KINDS.get(key)
    if found is None and key.startswith(SMALL_SCALE_PREFIXES):
        return "small_scale"
    return found


# --- states (stav_zadavaciho_postupu; stav_vz and stav of a part in 2016) -----------------

State = Literal["in_progress", "awarded", "cancelled", "performed"]

STATES: dict[str, State] = {
    # current structure
    "zahajen": "in_progress",
    "nezahajen": "in_progress",
    "neukoncen": "in_progress",
    "probiha": "in_progress",
    "hodnoceni": "in_progress",
    "dokoncen": "awarded",
    "ukoncen": "awarded",
    "zadan": "awarded",
    "zadana": "awarded",
    "zrusen": "cancelled",
    "zrusena": "cancelled",
    "ukonceno plneni": "performed",
    # 2016 structure (StavVZType, StavCastiVzType)
    "zakazka neukoncena": "in_progress",
    "cast zakazky neukoncena": "in_progress",
    "zakazka byla zadana": "awarded",
    "cast vz byla zadana": "awarded",
    "zakazka byla zrusena": "cancelled",
    "cast vz byla zrusena": "cancelled",
    "ukonceno plneni smlouvy na zaklade verejne zakazky": "performed",
    "ukonceno plneni smlouvy casti vz": "performed",
}


def state_for(text: str) -> State | None:
    return STATES.get(normalise(text))


# --- subjects (druh_vz, druh_casti_vz) -----------------------------------------------------

SUBJECTS: dict[str, str] = {
    "dodavky": "supplies",
    "dodavka": "supplies",
    "sluzby": "services",
    "sluzba": "services",
    "stavebni prace": "works",
    "stavebni prace (vcetne projektovani)": "works",
}


def subject_for(text: str) -> str | None:
    return SUBJECTS.get(normalise(text))


# --- documents (typ_dokumentu, and jiny_dokument_nazev for "Jiný dokument") ---------------

DocumentKind = Literal[
    "call",  # výzva / oznámení o zahájení: the call for competition
    "tender_documents",
    "clarification",
    "evaluation",
    "selection",
    "contract",
    "amendment",
    "report",
    "cancellation",
    "price_paid",
    "other",
]

# First match wins: more specific phrases before the general ones they contain.
_DOCUMENT_RULES: tuple[tuple[str, DocumentKind], ...] = (
    ("vysvetleni", "clarification"),
    ("zmena zadavaci dokumentace", "clarification"),
    ("doplneni zadavaci dokumentace", "clarification"),
    ("dodatek", "amendment"),
    ("zmena smlouvy", "amendment"),
    ("zmena zavazku", "amendment"),
    ("skutecne uhrazen", "price_paid"),
    ("pisemna zprava", "report"),
    ("zruseni", "cancellation"),
    ("vyberu", "selection"),
    ("vylouceni", "evaluation"),
    ("hodnoceni", "evaluation"),
    ("posouzeni", "evaluation"),
    ("zadavaci dokumentace", "tender_documents"),
    ("vyzva k podani", "call"),
    ("oznameni o zahajeni", "call"),
    ("oznameni o zakazce", "call"),
    ("vyzva", "call"),
    ("ramcova dohoda", "contract"),
    ("smlouva", "contract"),
    ("objednavka", "contract"),
)
_OTHER = ("jiny dokument",)


def document_kind(type_text: str, name: str | None) -> DocumentKind | None:
    """What a document is by its type, or by its name when the type is "Jiný dokument";
    ``other`` for a named other document that fits no step, None for an unknown type."""
    for text in (type_text, name or ""):
        key = normalise(text)
        for phrase, kind in _DOCUMENT_RULES:
            if phrase in key:
                return kind
    if normalise(type_text).startswith(_OTHER):
        return "other"
    return None


# --- deadlines (druh_lhuty) ----------------------------------------------------------------

DeadlineKind = Literal["bids", "preliminary_bids", "requests_to_participate"]


def deadline_kind(text: str) -> DeadlineKind | None:
    key = normalise(text)
    if "zadost" in key and "ucast" in key:
        return "requests_to_participate"
    if "nabid" in key and ("podani" in key or "doruceni" in key):
        return "preliminary_bids" if "predbezn" in key else "bids"
    return None


# --- yes and no ------------------------------------------------------------------------------

_YES = {"ano", "1", "true", "a", "yes"}
_NO = {"ne", "0", "false", "n", "no"}


def flag(text: str) -> bool | None:
    key = normalise(text)
    if key in _YES:
        return True
    if key in _NO:
        return False
    return None
