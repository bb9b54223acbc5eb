"""Commands of the later stages, registered on the parser."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    from wardwatch import cli, cli_analyst, cli_datasets, cli_doctor, cli_extract, cli_flows, cli_review

    cli_extract.register(sub, cli._add_db, cli._add_format)
    cli_analyst.register(sub, cli._add_db, cli._add_format)
    cli_datasets.register(sub, cli._add_db, cli._add_format)
    cli_review.register(sub, cli._add_db, cli._add_format)
    cli_doctor.register(sub, cli._add_db, cli._add_format)
    cli_flows.register(sub)
