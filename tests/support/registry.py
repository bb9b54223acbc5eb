"""Registry entries for sites served on 127.0.0.1 (tests, benchmarks)."""

from __future__ import annotations

from spiders.registry import to_toml

NERIMA = "/nerima/kurashi/jinken/hitorioya"  # the demo site's 練馬区 section


def local_source(sid: str, base: str, start: str, *, municipality: str = "練馬区", code: str = "131202",
                 kind: str = "official", follow: list[str] | tuple[str, ...] = (), max_depth: int = 2, **extra: object) -> dict:
    """A registry entry for a site served on 127.0.0.1 (demo, tests, benchmarks): no politeness delay."""
    return {"id": sid, "municipality": municipality, "code": code, "kind": kind, "start_urls": [base + start],
            "allowed_domains": ["127.0.0.1"], "follow": list(follow), "max_depth": max_depth,
            "schedule": "0 6 * * *", "delay_seconds": 0, **extra}


def registry_text(base: str, *, sid: str = "fixture-nerima", follow: tuple[str, ...] = (f"^{NERIMA}/", "^/nerima/private/"),
                  start: str = f"{NERIMA}/index.html", max_depth: int = 2, **extra: object) -> str:
    """Registry text of one source on the loopback site at ``base`` (default: the demo site's 練馬区 section)."""
    return to_toml([local_source(sid, base, start, follow=list(follow), max_depth=max_depth, **extra)])
