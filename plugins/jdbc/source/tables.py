"""Table selection for the source: legacy white/black lists, include/exclude regexes, per-table column mappings,
and the contiguous split of tables among tasks (Kafka's ConnectorUtils.groupPartitions)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TypeVar

from miniconnect.errors import ConfigError, ConnectError

from ..dialects import TableId

T = TypeVar("T")


def filter_tables(
    tables: Sequence[TableId],
    dialect: str,
    whitelist: list[str],
    blacklist: list[str],
    include: list[str],
    exclude: list[str],
) -> list[TableId]:
    """Tables kept by the filters, in listing order without duplicates (reference §3.1)."""
    include = [p for p in include if p]
    exclude = [p for p in exclude if p]
    if include or exclude:
        inc = [re.compile(p) for p in include]
        exc = [re.compile(p) for p in exclude]
        kept = [t for t in tables if any(r.fullmatch(t.fqn) for r in inc) and not any(r.fullmatch(t.fqn) for r in exc)]
    else:
        white = {w for w in whitelist if w}
        black = {b for b in blacklist if b}

        def named(t: TableId, names: set[str]) -> bool:
            return t.fqn in names or t.sql(dialect) in names or t.table in names

        if white:
            kept = [t for t in tables if named(t, white)]
        elif black:
            kept = [t for t in tables if not named(t, black)]
        else:
            kept = list(tables)
    return list(dict.fromkeys(kept))


def check_duplicates(tables: Sequence[TableId]) -> None:
    seen: dict[str, TableId] = {}
    dups = []
    for t in tables:
        if t.table in seen:
            dups.append(f"{seen[t.table].fqn}, {t.fqn}")
        seen.setdefault(t.table, t)
    if dups:
        raise ConnectError(
            "The connector uses the unqualified table name as the topic name and has detected "
            f"duplicate unqualified table names. This could lead to mixed data types in the topic "
            f"and downstream processing errors. To prevent such processing errors, the JDBC Source "
            f"connector fails to start when it detects duplicate table name configurations. Update "
            f"the connector's 'table.whitelist' config to include exactly one table in each of the "
            f"tables listed below. [{'; '.join(dups)}]"
        )


def group_partitions(elements: Sequence[T], num_groups: int) -> list[list[T]]:
    """Contiguous groups; the first len % n groups get one extra element (ConnectorUtils.groupPartitions)."""
    if num_groups <= 0:
        raise ValueError("Number of groups must be positive.")
    per, leftover = divmod(len(elements), num_groups)
    out, i = [], 0
    for g in range(num_groups):
        size = per + (1 if g < leftover else 0)
        out.append(list(elements[i : i + size]))
        i += size
    return out


def column_mapping(items: list[str], tables: Sequence[TableId], kind: str, multi: bool) -> dict[str, list[str]]:
    """`regex:[c1|c2]` (timestamp) / `regex:col` (incrementing) items → columns per table fqn; each table must
    match exactly one regex."""
    items = [i for i in items if i]
    if not items:
        return {}
    rules = []
    for item in items:
        rx, _, cols = item.rpartition(":")
        cols = cols.strip()
        if cols.startswith("[") and cols.endswith("]"):
            cols = cols[1:-1]
        names = [c.strip() for c in cols.split("|")] if multi else [cols]
        rules.append((re.compile(rx), [n for n in names if n]))
    out = {}
    for t in tables:
        hits = [cols for rx, cols in rules if rx.fullmatch(t.fqn)]
        if not hits:
            raise ConfigError(
                message=f"Error while validating {kind} column mappings: Included table '{t.fqn}' does "
                f"not match any of the provided regexes"
            )
        if len(hits) > 1:
            raise ConfigError(
                message=f"Error while validating {kind} column mappings: Included table '{t.fqn}' "
                f"matches more than one of the provided regexes"
            )
        out[t.fqn] = hits[0]
    return out
