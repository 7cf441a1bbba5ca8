"""Czech words for the API's vocabulary (areas, statuses, step types, rules, fields).

The API speaks stable English identifiers; a person reads these. An identifier without a
Czech word here is shown as it is (``label`` falls back), and tests check that every
identifier the API can return has one, so a new field or step type cannot go unnoticed.
"""

from __future__ import annotations

AREAS: dict[str, str] = {
    "economy": "Místní ekonomika",
    "mobility": "Mobilita a doprava",
    "energy_environment": "Energetika a životní prostředí",
    "everyday_life": "Každodenní život",
    "public_administration": "Veřejná správa",
}

PILOT_STATUSES: dict[str, str] = {
    "planned": "Plánuje se",
    "in_development": "Připravuje se",
    "pilot": "Pilotní provoz",
    "implemented": "Zavedeno",
    "in_production": "V běžném provozu",
    "discontinued": "Ukončeno",
}

POPULATION_BANDS: dict[str, str] = {
    "lt200": "do 199 obyvatel",
    "200-499": "200–499 obyvatel",
    "500-999": "500–999 obyvatel",
    "1k-2k": "1 000–1 999 obyvatel",
    "2k-5k": "2 000–4 999 obyvatel",
    "5k-10k": "5 000–9 999 obyvatel",
    "10k-20k": "10 000–19 999 obyvatel",
    "20k-50k": "20 000–49 999 obyvatel",
    "50k-100k": "50 000–99 999 obyvatel",
    "ge100k": "100 000 a více obyvatel",
}

SORTS: dict[str, str] = {
    "relevance": "podle shody s hledaným textem",
    "newest": "nejnovější",
    "cost_per_inhabitant": "nejnižší náklady na obyvatele",
    "distance": "nejbližší",
    "similarity": "nejpodobnější obce",
}

HOSTING: dict[str, str] = {
    "cloud": "v cloudu dodavatele",
    "on_premises": "na serverech obce",
    "hybrid": "kombinovaně (cloud i obec)",
}

PRICE_MODELS: dict[str, str] = {
    "one_off": "jednorázová cena",
    "subscription": "předplatné",
    "per_unit": "cena za kus",
    "free": "zdarma",
    "other": "jiný model",
}

PARTNER_KINDS: dict[str, str] = {
    "town": "obec",
    "firm": "firma",
    "ngo": "nezisková organizace",
    "school": "škola",
    "university": "vysoká škola",
    "region": "kraj",
    "state": "stát",
    "other": "jiný partner",
}

LOCKIN_LEVELS: dict[str, str] = {"low": "nízká", "medium": "střední", "high": "vysoká"}

# factor id -> (when the fact is missing, when it holds)
LOCKIN_FACTORS: dict[str, tuple[str, str]] = {
    "data_owned_by_municipality": ("Data nepatří obci.", "Data patří obci."),
    "bulk_export": ("Data nejde hromadně vyexportovat.", "Všechna data lze hromadně vyexportovat."),
    "open_api_documented": (
        "Chybí zdokumentované otevřené API.",
        "Má zdokumentované otevřené API.",
    ),
    "open_standards": (
        "Nepodporuje žádný otevřený standard ze slovníku.",
        "Podporuje otevřené standardy.",
    ),
    "standard_data_model": (
        "Nepoužívá standardní datový model.",
        "Používá standardní datový model.",
    ),
    "exit_clause": (
        "Smlouva nemá výstupní doložku (předání dat a součinnost při ukončení).",
        "Smlouva má výstupní doložku.",
    ),
    "open_source": ("Není open source.", "Je open source."),
    "proprietary_hardware": (
        "Vyžaduje proprietární hardware dodavatele.",
        "Nevyžaduje proprietární hardware.",
    ),
}

PROCUREMENT_STATUSES: dict[str, str] = {
    "planned": "Připravuje se",
    "tendering": "Probíhá soutěž",
    "evaluating": "Hodnotí se nabídky",
    "awarded": "Dodavatel vybrán",
    "contracted": "Smlouva uzavřena",
    "completed": "Dokončeno",
    "cancelled": "Zrušeno",
}

SUBJECTS: dict[str, str] = {
    "supplies": "dodávky",
    "services": "služby",
    "works": "stavební práce",
}

REGIMES: dict[str, str] = {
    "small_scale": "veřejná zakázka malého rozsahu",
    "below_threshold": "podlimitní",
    "above_threshold": "nadlimitní",
}

STEP_TYPES: dict[str, str] = {
    "procurement_approved": "Schválení zakázky",
    "notice_published": "Uveřejnění oznámení o zahájení",
    "invitation_sent": "Výzva dodavatelům",
    "tender_documents_published": "Zveřejnění zadávací dokumentace",
    "clarification_published": "Vysvětlení zadávací dokumentace",
    "bid_deadline_extended": "Prodloužení lhůty pro nabídky",
    "bids_opened": "Otevření nabídek",
    "evaluation_completed": "Hodnocení nabídek",
    "selection_decided": "Výběr dodavatele",
    "objection_filed": "Podání námitek",
    "objection_decided": "Rozhodnutí o námitkách",
    "contract_signed": "Uzavření smlouvy",
    "contract_published": "Uveřejnění smlouvy",
    "result_notice_published": "Oznámení o výsledku",
    "contract_amended": "Změna smlouvy",
    "payment_made": "Platba",
    "price_paid_published": "Uveřejnění skutečně uhrazené ceny",
    "report_published": "Uveřejnění písemné zprávy zadavatele",
    "completed": "Dokončení zakázky",
    "cancelled": "Zrušení zakázky",
    "correction": "Oprava záznamu",
}

# Keys of step data (and of the values inside it).
STEP_FIELDS: dict[str, str] = {
    "body": "Rozhodl orgán",
    "resolution_id": "Číslo usnesení",
    "channel": "Kde uveřejněno",
    "notice_id": "Číslo oznámení",
    "url": "Odkaz",
    "bid_deadline": "Lhůta pro podání nabídek",
    "suppliers": "Oslovení dodavatelé",
    "summary": "Shrnutí",
    "new_bid_deadline": "Nová lhůta pro podání nabídek",
    "reason": "Důvod",
    "bids": "Nabídky",
    "excluded": "Vyloučení účastníci",
    "winner_ico": "IČO vybraného dodavatele",
    "winner_name": "Vybraný dodavatel",
    "price_excl_vat": "Cena bez DPH",
    "objector_ico": "IČO stěžovatele",
    "outcome": "Výsledek",
    "supplier_ico": "IČO dodavatele",
    "supplier_name": "Dodavatel",
    "value_excl_vat": "Hodnota smlouvy bez DPH",
    "signed_on": "Datum podpisu",
    "form": "Forma",
    "register": "Kde uveřejněno",
    "id": "Identifikátor",
    "value_change_excl_vat": "Změna hodnoty bez DPH",
    "amount_excl_vat": "Částka bez DPH",
    "paid_on": "Datum platby",
    "legal_basis": "Právní důvod",
    "corrects_seq": "Opravuje krok č.",
    "corrected": "Opravené údaje",
    "ico": "IČO",
    "name": "Název",
    # red-flag details
    "bidders": "Počet nabídek",
    "finding_rule_id": "Pravidlo lhůty",
    "due": "Lhůta do",
    "actual": "Skutečně",
    "confidence": "Jistota výkladu",
    "paid_excl_vat": "Zaplaceno bez DPH",
    "contract_value_excl_vat": "Hodnota smlouvy bez DPH",
    "change_excl_vat": "Změny bez DPH",
    "original_value_excl_vat": "Původní hodnota bez DPH",
    "share": "Podíl změn",
    "limit": "Zákonný limit",
}

STEP_VALUES: dict[str, str] = {
    "council": "zastupitelstvo",
    "board": "rada obce",
    "mayor": "starosta",
    "vvz": "Věstník veřejných zakázek",
    "ted": "Úřední věstník EU (TED)",
    "profile": "profil zadavatele",
    "contract_register": "registr smluv",
    "contract": "smlouva",
    "order": "objednávka",
    "upheld": "námitkám vyhověno",
    "rejected": "námitky odmítnuty",
    "confirmed": "ověřeno ze zákona",
    "secondary": "podle sekundárního zdroje",
    "unconfirmed": "zatím nepotvrzeno",
}

EXTERNAL_IDS: dict[str, str] = {
    "buyer_profile": "Profil zadavatele",
    "vvz": "Věstník veřejných zakázek",
    "ted": "TED",
    "nen": "NEN",
    "contract_register": "Registr smluv",
    "buyer_profile_code": "Profil zadavatele (evidenční číslo)",
    "buyer_profile_procurement_id": "Zakázka na profilu zadavatele",
    "buyer_profile_part_id": "Část zakázky na profilu zadavatele",
}

SEVERITIES: dict[str, str] = {
    "low": "nízká",
    "medium": "střední",
    "high": "vysoká",
    "critical": "kritická",
}

# rule id -> (title, what it means)
RED_FLAG_RULES: dict[str, tuple[str, str]] = {
    "single_bid": (
        "Jediná nabídka",
        "V soutěži přišla jen jedna nabídka. Ukazuje na slabou konkurenci, samo o sobě to "
        "porušení zákona není.",
    ),
    "short_bid_period": (
        "Krátká lhůta pro nabídky",
        "Od výzvy k podání nabídek do konce lhůty uplynulo méně, než zákon pro daný druh "
        "řízení vyžaduje.",
    ),
    "contract_before_objection_period": (
        "Smlouva před koncem lhůty pro námitky",
        "Smlouva byla uzavřena dřív, než uplynula lhůta pro podání námitek proti výběru.",
    ),
    "contract_not_published": (
        "Smlouva nebyla včas uveřejněna",
        "Smlouva nebyla v zákonné lhůtě uveřejněna na profilu zadavatele ani v registru smluv.",
    ),
    "price_paid_not_published": (
        "Neuveřejněná skutečně uhrazená cena",
        "Cena skutečně uhrazená za plnění nebyla uveřejněna do tří měsíců od splnění.",
    ),
    "paid_above_contract_value": (
        "Zaplaceno víc, než činí smlouva",
        "Platby dohromady převyšují hodnotu smlouvy včetně jejích změn.",
    ),
    "amendments_above_share": (
        "Změny smlouvy nad zákonný podíl",
        "Změny smlouvy mění její hodnotu víc, než zákon bez nového zadávacího řízení dovoluje.",
    ),
    "winner_not_among_bidders": (
        "Vybraný dodavatel mezi nabídkami chybí",
        "Vybraný dodavatel nepodal zaznamenanou nabídku nebo byl z hodnocení vyloučen "
        "(chyba záznamu, nebo výběr mimo soutěž).",
    ),
    "contract_missing_from_register": (
        "Smlouva chybí v registru smluv",
        "Smlouvu nad 50 000 Kč bez DPH se v zrcadle registru smluv nepodařilo najít, ačkoli "
        "registr už pokrývá celou lhůtu pro její uveřejnění.",
    ),
    "register_value_differs": (
        "Hodnota v registru smluv se liší",
        "Záznam v registru smluv uvádí jinou hodnotu smlouvy, než jaká je zapsána v průběhu "
        "zakázky.",
    ),
    "split_contracts": (
        "Možné dělení zakázky",
        "Nákupy jedné obce v jedné skupině CPV během 12 měsíců zůstávají každý těsně pod "
        "limitem zakázky malého rozsahu, dohromady ho ale překračují.",
    ),
}

FINDING_KINDS: dict[str, str] = {
    "within": "musí proběhnout do",
    "at_least": "nejdříve po uplynutí lhůty",
    "after": "až po",
}

# Field labels of the API's read models, per page: a field the API adds must get a word here
# (tests check), and the page shows every field it does not show elsewhere under "Další
# údaje", so pages and the API stay in step.
PILOT_FIELDS: dict[str, str] = {
    "id": "Číslo projektu",
    "municipality_code": "Kód obce",
    "municipality": "Obec",
    "title": "Název",
    "summary": "Shrnutí",
    "description": "Popis",
    "areas": "Oblasti",
    "status": "Stav",
    "started_on": "Zahájení",
    "ended_on": "Ukončení",
    "budget_czk": "Rozpočet",
    "cost_per_inhabitant": "Náklady na obyvatele",
    "funding": "Financování",
    "solution_ids": "Použitá řešení",
    "vendor_ids": "Dodavatelé",
    "kpis": "Ukazatele",
    "adoption": "Využití občany",
    "lessons_learned": "Poučení",
    "partners": "Partneři",
    "contact": "Kontakt",
    "procurement_ocids": "Veřejné zakázky",
    "open_data_url": "Otevřená data",
    "has_procurement": "Má zaznamenanou zakázku",
    "open_source": "Všechna řešení jsou open source",
    "data_owned_by_municipality": "Data patří obci",
    "lockin_score": "Nejvyšší závislost na dodavateli (body)",
    "demo": "Ukázková data",
    "created_at": "Zapsáno",
    "updated_at": "Naposledy změněno",
    "distance_km": "Vzdálenost",
}

SOLUTION_FIELDS: dict[str, str] = {
    "id": "Číslo řešení",
    "vendor_id": "Dodavatel",
    "name": "Název",
    "summary": "Shrnutí",
    "description": "Popis",
    "areas": "Oblasti",
    "standards": "Standardy",
    "mims": "Mechanismy MIM (OASC)",
    "trl": "Technologická připravenost (TRL)",
    "hosting": "Provoz",
    "price_model": "Cenový model",
    "open_api_documented": "Zdokumentované otevřené API",
    "standard_data_model": "Standardní datový model",
    "bulk_export": "Hromadný export dat",
    "data_owned_by_municipality": "Data patří obci",
    "open_source": "Open source",
    "licence": "Licence",
    "exit_clause": "Výstupní doložka ve smlouvě",
    "published_in_nkod": "Data v Národním katalogu otevřených dat",
    "proprietary_hardware": "Proprietární hardware",
    "lockin": "Závislost na dodavateli",
    "demo": "Ukázková data",
    "created_at": "Zapsáno",
    "updated_at": "Naposledy změněno",
    "distance_km": "Vzdálenost",
}

MUNICIPALITY_FIELDS: dict[str, str] = {
    "code": "Kód obce",
    "name": "Název",
    "district": "Okres",
    "district_lau1": "Kód okresu (LAU 1)",
    "region": "Kraj",
    "region_nuts3": "Kód kraje (NUTS 3)",
    "postcode": "PSČ",
    "lat": "Zeměpisná šířka",
    "lon": "Zeměpisná délka",
    "population": "Počet obyvatel",
    "population_band": "Velikostní skupina",
    "ico": "IČO obce",
    "distance_km": "Vzdálenost",
}

PROCUREMENT_FIELDS: dict[str, str] = {
    "ocid": "Identifikátor OCDS",
    "buyer_code": "Zadavatel",
    "title": "Název",
    "description": "Popis",
    "subject": "Předmět",
    "procedure": "Druh řízení",
    "regime": "Režim",
    "status": "Stav",
    "estimated_value_excl_vat": "Předpokládaná hodnota bez DPH",
    "currency": "Měna",
    "cpv": "Kódy CPV",
    "solution_ids": "Řešení z katalogu",
    "external_ids": "Odkazy do jiných systémů",
    "created_at": "Založeno",
    "created_by_key_id": "Založil klíč",
    "step_count": "Počet kroků",
    "last_entry_hash": "Otisk posledního kroku",
    "started_on": "Zahájení řízení",
    "legal_ground": "Zákonný důvod jednacího řízení bez uveřejnění",
}

STEP_RECORD_FIELDS: dict[str, str] = {
    "ocid": "Zakázka",
    "seq": "Krok č.",
    "type": "Druh kroku",
    "leaf_index": "Pořadí v knize záznamů",
    "entry_hash": "Otisk záznamu (SHA-256)",
    "prev_hash": "Otisk předchozího kroku",
    "occurred_at": "Kdy se stalo",
    "recorded_at": "Kdy zapsáno",
    "findings": "Zjištění",
    "actor": "Zapsal klíč",
    "data": "Údaje",
    "documents": "Dokumenty",
    "corrected_by": "Opraveno kroky",
    "effective_data": "Platné údaje po opravách",
    "imported_from": "Převzato z profilu zadavatele (soubor, prvek)",
}


def label(vocabulary: dict[str, str], value: object) -> str:
    """The Czech word for ``value``, or the value itself when there is none."""
    text = str(value)
    return vocabulary.get(text, text)
