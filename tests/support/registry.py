"""Registry entries for sites served on 127.0.0.1 (tests, benchmarks)."""

from __future__ import annotations

from spiders.registry import to_toml
from wardwatch.demo.script import loopback_entry as local_source  # the demo's own entries, no delay

NERIMA = "/nerima/kurashi/jinken/hitorioya"  # the demo site's 練馬区 section


def registry_text(base: str, *, sid: str = "fixture-nerima", follow: tuple[str, ...] = (f"^{NERIMA}/", "^/nerima/private/"),
                  start: str = f"{NERIMA}/index.html", max_depth: int = 2, **extra: object) -> str:
    """Registry text of one source on the loopback site at ``base`` (default: the demo site's 練馬区 section)."""
    return to_toml([local_source(sid, base, start, follow=list(follow), max_depth=max_depth, **extra)])
