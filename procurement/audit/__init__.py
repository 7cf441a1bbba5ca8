"""Auditor exports: OCDS 1.1 packages, bulk JSON Lines / CSV streams, the change feed and
red flags, over the procurement trail."""
