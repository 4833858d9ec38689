"""The CBV 2.0 Event Hash ID of EPCIS events, by the GS1 reference implementation
(`epcis-event-hash-generator`), with the JSON-LD context resolved once per process."""

from __future__ import annotations

import copy
import functools
from typing import Any


@functools.cache
def _static_contexts() -> None:
    """Let JSON-LD keep the EPCIS context it resolved, across calls.

    The hash generator's loader reads the context from a file, but without pyld's `static`
    tag, so pyld resolves and canonicalises the whole context again for every event (two
    thirds of the time of an EPCIS query of 1,000 events). The context never changes.
    """
    import epcis_event_hash_generator  # type: ignore[import-untyped]  # noqa: F401 - its loader
    from pyld import jsonld  # type: ignore[import-untyped]

    load = jsonld.get_document_loader()

    def static(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
        return {**load(url, options or {}), "tag": "static"}

    jsonld.set_document_loader(static)


def prehash_strings(doc: dict[str, Any], ignore: tuple[str, ...] = ()) -> list[str]:
    """The canonical pre-hash string of every event in an EPCIS (query) document.

    `ignore` names top-level event fields left out of the hash besides the standard ones
    (`eventID`, `recordTime`, `errorDeclaration`): repository-assigned extensions.
    """
    from epcis_event_hash_generator.hash_generator import (  # type: ignore[import-untyped]
        derive_prehashes_from_events,
    )
    from epcis_event_hash_generator.json_to_py import (  # type: ignore[import-untyped]
        event_list_from_epcis_document_json,
    )

    _static_contexts()
    doc = copy.deepcopy(doc)
    body = doc.get("epcisBody", {})
    if "queryResults" in body:
        doc["type"] = "EPCISDocument"
        doc["epcisBody"] = {"eventList": body["queryResults"]["resultsBody"]["eventList"]}
    if ignore:
        for ev in doc["epcisBody"].get("eventList", []):
            for name in ignore:
                ev.pop(name, None)
    events = event_list_from_epcis_document_json(doc)
    return list(derive_prehashes_from_events(events))


def hashes_of(prehashes: list[str]) -> list[str]:
    from epcis_event_hash_generator.hash_generator import (
        calculate_hashes_from_pre_hashes,
    )

    return list(calculate_hashes_from_pre_hashes(prehashes))
