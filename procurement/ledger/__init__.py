"""The ledger: one RFC 9162 Merkle log over every procurement step of the service.

Entry contract (shared by procurement, ledger and audit code; do not change lightly):

* A step is serialised **once** to canonical JSON (RFC 8785, ``rfc8785.dumps``) and those
  bytes are stored in ``ledger_entries.entry_bytes``, never re-serialised.
* The entry document is an object with these members::

      v            1 (format version)
      ocid         the procurement's ocid
      seq          1, 2, ... per procurement
      leaf_index   0, 1, ... over the whole service (this entry's leaf in the log)
      prev_hash    hex entry hash of the procurement's previous step, null for seq 1
      type         step type id (e.g. "bids_opened")
      occurred_at  RFC 3339 UTC with "Z" (when it happened)
      recorded_at  RFC 3339 UTC with "Z" (server clock)
      actor        id of the API key that recorded it, or null
      data         the typed payload of the step type
      documents    [{title, url, sha256, size, media_type}]
      findings     deadline findings computed when it was recorded

  Money is a decimal string with two places ("1250000.00"), dates "YYYY-MM-DD".
* ``entry_hash = SHA-256(entry_bytes)`` (hex); it covers ``prev_hash``, ``seq`` and
  ``leaf_index`` because they are members of the bytes.
* ``leaf_hash = SHA-256(0x00 || entry_bytes)``; interior node ``SHA-256(0x01 || l || r)``.

Appending (inside the request's transaction; the service never commits)::

    index = ledger.next_leaf_index(session)      # takes the log-head lock
    entry_bytes = rfc8785.dumps({..., "leaf_index": index, ...})
    ledger.append_entry(session, index, entry_bytes)
"""
