"""Programs (制度): the shipped catalog, amounts by fiscal year, and heading → program matching (pure).

The API the warehouse/diff wiring calls:

* ``load_catalog()`` → :class:`Catalog` (programs, amount variants, sources; validated, cached);
* ``match_program(heading_path, municipality, text, code=..., aliases=...)`` → :class:`Match` | None;
* ``municipal_program_id(code, name)`` and :class:`Aliases` for programs not in the catalog;
* ``amount_in_force`` / ``years_of`` / ``current`` / ``check_amount`` for national amounts per 年度.

See ``docs/programs.md``.
"""

from extractors.programs.amounts import (
    AmountCheck,
    VariantMatch,
    amount_in_force,
    amounts_of,
    check_amount,
    current,
    years_of,
)
from extractors.programs.catalog import Amount, Catalog, CatalogError, Program, Source, Variant, load_catalog
from extractors.programs.match import (
    Aliases,
    Heading,
    Match,
    alias_keys,
    analyse,
    match_program,
    municipal_program_id,
    program_key,
    resolve_heading,
)

__all__ = [
    "Aliases",
    "Amount",
    "AmountCheck",
    "Catalog",
    "CatalogError",
    "Heading",
    "Match",
    "Program",
    "Source",
    "Variant",
    "VariantMatch",
    "alias_keys",
    "amount_in_force",
    "amounts_of",
    "analyse",
    "check_amount",
    "current",
    "load_catalog",
    "match_program",
    "municipal_program_id",
    "program_key",
    "resolve_heading",
    "years_of",
]
