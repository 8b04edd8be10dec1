"""Rows of hand-written OMOP CDM tables, for the tests that recode the small CDM of
``tests/data/cohort/omop_small`` (the importer's and the engines' tests of concept sets)."""

from __future__ import annotations

from pathlib import Path

#: The hand-written CDM (tests/cohort/test_omop.py checks every field of its import).
OMOP_SMALL = Path(__file__).resolve().parent / "data" / "cohort" / "omop_small"


def condition(k: int, person: int, concept: int, day: str, source: str = "", visit=None) -> dict:
    """A ``condition_occurrence`` row: its id, person, concept, start date, source value and
    visit."""
    return {
        "condition_occurrence_id": k,
        "person_id": person,
        "condition_concept_id": concept,
        "condition_start_date": day,
        "visit_occurrence_id": visit,
        "condition_source_value": source,
    }
