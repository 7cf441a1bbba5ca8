"""The OCDS tools that publishers' data meets in practice, run offline over our exports:
``ocdskit compile``, ``ocdsmerge``, ``flattentool`` and ``libcoveocds`` (the library behind
the OCDS Data Review Tool). Each function returns what the tool reported: its errors and
its warnings, as text, so a test can assert that there are none.

No network exists here, and the tools fetch the standard and the extensions a package
declares. So:

* the standard is read from ``SCHEMA_DIR`` (the vendored OCDS 1.1.5 schema and codelists),
  handed to ``ocdsextensionregistry`` (which libcoveocds uses) as the bytes of a ZIP laid out
  like the standard's repository;
* the bid extension that our packages declare is served, for the duration of a check, from
  a stand-in (``BID_EXTENSION``: the fields and codes of the extension's v1.1.5 release,
  written from its published documentation; descriptions are shortened) through a requests
  adapter mounted on the registry's session for that one URL prefix, while every other URL
  is refused, so a tool that tries the network fails loudly instead of waiting.
"""

from __future__ import annotations

import contextlib
import copy
import csv
import io
import json
import subprocess
import sys
import warnings
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import requests
from requests.adapters import HTTPAdapter

BID_EXTENSION_URL = (
    "https://raw.githubusercontent.com/open-contracting-extensions/ocds_bid_extension/"
    "v1.1.5/extension.json"
)
BID_EXTENSION_ARCHIVE = (
    "https://github.com/open-contracting-extensions/ocds_bid_extension/archive/v1.1.5.zip"
)
STANDARD_TAG = "1__1__5"

_STRING_OR_NULL = {"type": ["string", "null"]}
# The bid extension, v1.1.5: its release schema patch (field names, types, codelists and
# required members as released; descriptions shortened), its metadata and its codelists.
BID_EXTENSION_PATCH: dict[str, Any] = {
    "properties": {
        "bids": {
            "title": "Bids",
            "description": "Summary statistics and individual bids.",
            "$ref": "#/definitions/Bids",
        }
    },
    "definitions": {
        "Award": {
            "properties": {
                "relatedBid": {
                    "title": "Related bid",
                    "description": "The bid this award relates to.",
                    **_STRING_OR_NULL,
                }
            }
        },
        "BidsStatistic": {
            "title": "Bid Statistic",
            "description": "An aggregate statistic about the bids.",
            "type": "object",
            "required": ["id", "measure", "value"],
            "properties": {
                "id": {"title": "ID", "description": "Identifier.", "type": "string"},
                "measure": {
                    "title": "Measure",
                    "description": "The statistic reported.",
                    "type": "string",
                    "codelist": "bidStatistics.csv",
                    "openCodelist": True,
                },
                "date": {
                    "title": "Date",
                    "description": "When it was last updated.",
                    "format": "date-time",
                    **_STRING_OR_NULL,
                },
                "value": {"title": "Value", "description": "The value.", "type": "number"},
                "currency": {
                    "title": "Currency",
                    "description": "The currency of a monetary value.",
                    "codelist": "currency.csv",
                    "openCodelist": False,
                    **_STRING_OR_NULL,
                },
                "notes": {"title": "Notes", "description": "Notes.", **_STRING_OR_NULL},
                "relatedLot": {"title": "Related Lot", "description": "Lot.", **_STRING_OR_NULL},
            },
        },
        "Bids": {
            "title": "Bids",
            "description": "Bids received and evaluated.",
            "type": "object",
            "properties": {
                "statistics": {
                    "title": "Statistics",
                    "description": "Summary statistics.",
                    "type": "array",
                    "items": {"$ref": "#/definitions/BidsStatistic"},
                },
                "details": {
                    "title": "Bid details",
                    "description": "The bids.",
                    "type": "array",
                    "items": {"$ref": "#/definitions/Bid"},
                },
            },
        },
        "Bid": {
            "title": "Bid",
            "description": "A bid in response to the tender or qualification stage.",
            "type": "object",
            "required": ["id"],
            "properties": {
                "id": {"title": "ID", "description": "A local identifier.", "type": ["string"]},
                "date": {
                    "title": "Date",
                    "description": "When the bid was received.",
                    "format": "date-time",
                    **_STRING_OR_NULL,
                },
                "status": {
                    "title": "Status",
                    "description": "The status of the bid.",
                    "type": ["string", "null"],
                    "codelist": "bidStatus.csv",
                    "openCodelist": False,
                    "enum": ["invited", "pending", "valid", "disqualified", "withdrawn", None],
                },
                "tenderers": {
                    "title": "Tenderer",
                    "description": "The parties responsible for the bid.",
                    "type": "array",
                    "items": {"$ref": "#/definitions/OrganizationReference"},
                },
                "value": {
                    "title": "Value",
                    "description": "The total value of the bid.",
                    "$ref": "#/definitions/Value",
                },
                "documents": {
                    "title": "Documents",
                    "description": "Documents of the bid and its evaluation.",
                    "type": "array",
                    "items": {"$ref": "#/definitions/Document"},
                    "uniqueItems": True,
                },
            },
        },
    },
}
BID_EXTENSION_METADATA: dict[str, Any] = {
    "name": {"en": "Bid statistics and details"},
    "description": {
        "en": "Adds a bids object to describe individual bids and aggregate statistics."
    },
    "documentationUrl": {
        "en": "https://extensions.open-contracting.org/en/extensions/bids/v1.1.5/"
    },
    "compatibility": ["1.1"],
    "codelists": ["bidStatistics.csv", "bidStatus.csv"],
    "schemas": ["release-schema.json"],
}
BID_STATUS = frozenset({"invited", "pending", "valid", "disqualified", "withdrawn"})
BID_STATISTICS = (
    "requests bids validBids lowestValidBidValue highestValidBidValue bidders qualifiedBidders "
    "disqualifiedBidders electronicBids smeBids foreignBids foreignBidsFromEU "
    "foreignBidsFromNonEU tendersAbnormallyLow"
).split()


def _codelist(codes: Iterable[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Code", "Title", "Description"])
    for code in codes:
        writer.writerow([code, code, code])
    return out.getvalue()


def bid_extension_files() -> dict[str, str]:
    return {
        "extension.json": json.dumps(BID_EXTENSION_METADATA),
        "release-schema.json": json.dumps(BID_EXTENSION_PATCH),
        "codelists/bidStatus.csv": _codelist(sorted(BID_STATUS)),
        "codelists/bidStatistics.csv": _codelist(BID_STATISTICS),
    }


STANDARD_SCHEMA_URL = f"https://standard.open-contracting.org/schema/{STANDARD_TAG}/"


def _offline_files(schema_dir: Path) -> dict[str, bytes]:
    """URL -> content: the standard's schema files and the bid extension's files."""
    files = {
        f"{STANDARD_SCHEMA_URL}{path.name}": path.read_bytes() for path in schema_dir.glob("*.json")
    }
    base = BID_EXTENSION_URL.rsplit("/", 1)[0] + "/"
    extension = bid_extension_files()
    files.update({base + name: text.encode("utf-8") for name, text in extension.items()})
    # ocdsextensionregistry reads an extension hosted on GitHub from its archive.
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("ocds_bid_extension-1.1.5/", "")
        for name, text in extension.items():
            zipped.writestr(f"ocds_bid_extension-1.1.5/{name}", text)
    files[BID_EXTENSION_ARCHIVE] = archive.getvalue()
    return files


@contextlib.contextmanager
def offline(schema_dir: Path) -> Iterator[None]:
    """Every request through ``requests`` (the tools' only way out) is answered from the
    files above, with 404 for other files under those bases; any other URL is refused."""
    files = _offline_files(schema_dir)
    bases = {url.rsplit("/", 1)[0] + "/" for url in files}

    def send(self: HTTPAdapter, request: Any, **kwargs: Any) -> requests.Response:  # noqa: ARG001
        url = str(request.url)
        if not any(url.startswith(base) for base in bases):
            raise requests.ConnectionError(f"offline test: refused {url}", request=request)
        response = requests.Response()
        response.request = request
        response.url = url
        response.status_code, response.reason = (200, "OK") if url in files else (404, "Not Found")
        response._content = files.get(url, b"")
        response.headers["Content-Type"] = "application/json"
        return response

    from ocdsextensionregistry import util

    # The registry's session caches responses; ours are not HTTP responses off a socket.
    with mock.patch.object(HTTPAdapter, "send", send), util.session.cache_disabled():
        yield


def standard_zip(schema_dir: Path) -> bytes:
    """The schema files as ocdsextensionregistry reads a ZIP of the standard's repository."""
    buffer = io.BytesIO()
    root = f"standard-{STANDARD_TAG}/"
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(root, "")
        for path in sorted(schema_dir.rglob("*")):
            if path.is_file() and path.suffix in (".json", ".csv"):
                relative = path.relative_to(schema_dir).as_posix()
                archive.writestr(f"{root}schema/{relative}", path.read_bytes())
    return buffer.getvalue()


def patched_release_schema(schema_dir: Path) -> dict[str, Any]:
    """The 1.1.5 release schema with the bid extension applied, as the tools build it."""
    from ocdsextensionregistry import ProfileBuilder

    builder = ProfileBuilder(
        STANDARD_TAG, [BID_EXTENSION_URL], standard_base_url=standard_zip(schema_dir)
    )
    with offline(schema_dir):
        schema: dict[str, Any] = builder.patched_release_schema()
    return schema


# -- the tools ------------------------------------------------------------------------------


def libcoveocds_report(package: dict[str, Any], schema_dir: Path, tmp: Path) -> list[str]:
    """Everything libcoveocds (the OCDS Data Review Tool's library) reports about a package
    that is an error or a warning: schema errors, codes outside a codelist (closed or open),
    fields the schema does not define, deprecated fields, empty fields, ocid prefixes,
    extensions it could not apply."""
    from libcoveocds.api import ocds_json_output
    from libcoveocds.config import LibCoveOCDSConfig

    config = LibCoveOCDSConfig()
    config.config["context"] = "api"
    config.config["standard_zip"] = standard_zip(schema_dir)
    with offline(schema_dir), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = ocds_json_output(
            str(tmp), json_data=copy.deepcopy(package), lib_cove_ocds_config=config
        )
    problems = [f"validation: {e['path']}: {e['description']}" for e in result["validation_errors"]]
    for key in ("additional_closed_codelist_values", "additional_open_codelist_values"):
        for path, value in result.get(key, {}).items():
            problems.append(f"{key}: {path}: {value.get('values')}")
    problems += [f"additional field: {f['path']}/{f['field']}" for f in result["additional_fields"]]
    problems += [f"deprecated: {f['field']}" for f in result["deprecated_fields"]]
    for check, found in (result.get("additional_checks") or {}).items():
        problems += [f"{check}: {item['json_location']}" for item in found]
    for kind, found in (result.get("conformance_errors") or {}).items():
        problems.append(f"conformance {kind}: {found}")
    extensions = result.get("extensions") or {}
    problems += [
        f"extension: {url}: {why}" for url, why in extensions.get("invalid_extensions", [])
    ]
    for extension in extensions.get("extensions", []):
        for codelist, why in (extension.get("failed_codelists") or {}).items():
            problems.append(f"extension codelist {codelist}: {why}")
    if result.get("json_deref_error"):
        problems.append(f"schema: {result['json_deref_error']}")
    problems += [f"warning: {w.category.__name__}: {w.message}" for w in caught]
    return problems


def ocdsmerge_report(
    releases: list[dict[str, Any]], schema: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """The compiled and versioned release by the reference merger, and its warnings."""
    from ocdsmerge import Merger

    merger = Merger(copy.deepcopy(schema))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compiled = merger.create_compiled_release(copy.deepcopy(releases))
        versioned = merger.create_versioned_release(copy.deepcopy(releases))
    return compiled, versioned, [f"{w.category.__name__}: {w.message}" for w in caught]


def ocdskit_compile(
    packages: Iterable[dict[str, Any]], schema_path: Path
) -> tuple[dict[str, Any], str, int]:
    """``ocdskit compile --package --versioned`` over a stream of release packages: the
    record package it prints, what it wrote to standard error, and its exit status."""
    stdin = "".join(json.dumps(package) + "\n" for package in packages)
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("ocdskit")),
            "compile",
            "--package",
            "--versioned",
            "--schema",
            str(schema_path),
        ],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    output = json.loads(done.stdout) if done.returncode == 0 and done.stdout.strip() else {}
    return output, done.stderr, done.returncode


def flattentool_report(package: dict[str, Any], schema_path: Path, tmp: Path) -> list[str]:
    """``flattentool flatten`` of a release package against the patched schema (to CSV
    sheets): the warnings it raised and the columns it found no schema for."""
    from flattentool import flatten

    source = tmp / "package.json"
    source.write_text(json.dumps(package))
    out = tmp / "flattened"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        flatten(
            str(source),
            schema=str(schema_path),
            output_name=str(out),
            output_format="csv",
            main_sheet_name="releases",
            root_list_path="releases",
            root_id="ocid",
            disable_local_refs=True,
            remove_empty_schema_columns=True,
        )
    return [f"{w.category.__name__}: {w.message}" for w in caught]


def flattentool_schema_warnings(schema_path: Path) -> set[str]:
    """What flattentool says about the schema itself, whatever the data: the 1.1.5 schema
    has fields without properties (``parties/details``, amendments' ``former_value``),
    which it skips with a warning. These are subtracted from a flatten's warnings."""
    from flattentool.schema import SchemaParser

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        SchemaParser(
            schema_filename=str(schema_path),
            root_id="ocid",
            disable_local_refs=True,
            truncation_length=3,
        ).parse()
    return {f"{w.category.__name__}: {w.message}" for w in caught}
