"""Column reflection of the generic dialect: SQLAlchemy's inspector, and the SQL-standard information_schema when
the dialect's own catalog queries fail (duckdb-engine 0.17 with SQLAlchemy 2.1 reads pg_catalog tables DuckDB
does not have). Either way: names, SQLAlchemy types, nullability, default text and primary-key membership."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

# information_schema data_type names the dialect's ischema_names may lack
_STANDARD = {
    "double": sa.Double,
    "float": sa.REAL,
    "real": sa.REAL,
    "decimal": sa.Numeric,
    "numeric": sa.Numeric,
    "blob": sa.LargeBinary,
    "varbinary": sa.LargeBinary,
    "binary": sa.LargeBinary,
    "varchar": sa.String,
    "char": sa.CHAR,
    "text": sa.Text,
    "boolean": sa.Boolean,
    "tinyint": sa.SmallInteger,
    "smallint": sa.SmallInteger,
    "integer": sa.Integer,
    "int": sa.Integer,
    "bigint": sa.BigInteger,
    "date": sa.Date,
    "time": sa.Time,
    "timestamp": sa.TIMESTAMP,
}


@dataclass
class Reflected:
    name: str
    type: Any
    nullable: bool
    default: str | None
    autoincrement: bool
    primary_key: bool


def reflect_columns(conn: Connection, table: str, schema: str | None) -> list[Reflected]:
    insp = sa.inspect(conn)
    try:
        cols = insp.get_columns(table, schema=schema)
        keys = set(insp.get_pk_constraint(table, schema=schema).get("constrained_columns") or ())
    except (DBAPIError, NotImplementedError):
        conn.rollback()  # the failed catalog query may have aborted the transaction
        return _information_schema(conn, table, schema or insp.default_schema_name)
    return [
        Reflected(
            c["name"],
            c["type"],
            bool(c.get("nullable", True)) and c["name"] not in keys,
            None if c.get("default") is None else str(c["default"]),
            c.get("autoincrement") is True or bool(c.get("identity")),
            c["name"] in keys,
        )
        for c in cols
    ]


def _information_schema(conn: Connection, table: str, schema: str | None) -> list[Reflected]:
    c = sa.table(
        "columns",
        *map(
            sa.column,
            (
                "table_schema",
                "table_name",
                "column_name",
                "data_type",
                "numeric_precision",
                "numeric_scale",
                "is_nullable",
                "column_default",
                "ordinal_position",
            ),
        ),
        schema="information_schema",
    )
    tc = sa.table(
        "table_constraints",
        *map(sa.column, ("constraint_name", "table_schema", "table_name", "constraint_type")),
        schema="information_schema",
    )
    ku = sa.table(
        "key_column_usage",
        *map(sa.column, ("constraint_name", "table_schema", "table_name", "column_name")),
        schema="information_schema",
    )
    where = [c.c.table_name == table] + ([c.c.table_schema == schema] if schema else [])
    rows = conn.execute(
        sa.select(
            c.c.column_name,
            c.c.data_type,
            c.c.numeric_precision,
            c.c.numeric_scale,
            c.c.is_nullable,
            c.c.column_default,
        )
        .where(*where)
        .order_by(c.c.ordinal_position)
    ).all()
    keys = set(
        conn.execute(
            sa.select(ku.c.column_name)
            .select_from(
                ku.join(
                    tc,
                    sa.and_(
                        tc.c.constraint_name == ku.c.constraint_name,
                        tc.c.table_name == ku.c.table_name,
                    ),
                )
            )
            .where(tc.c.constraint_type == "PRIMARY KEY", ku.c.table_name == table)
        ).scalars()
    )
    names = conn.dialect.ischema_names if hasattr(conn.dialect, "ischema_names") else {}
    out = []
    for name, data_type, precision, scale, nullable, default in rows:
        out.append(
            Reflected(
                name,
                _type(str(data_type), precision, scale, names),
                str(nullable).upper() == "YES" and name not in keys,
                default,
                "nextval(" in str(default or "").lower(),
                name in keys,
            )
        )
    return out


def _type(data_type: str, precision: Any, scale: Any, names: dict[str, Any]) -> Any:
    base = re.sub(r"\(.*\)", "", data_type).strip().lower()
    if base in ("decimal", "numeric"):
        return sa.Numeric(precision, scale)
    if base.startswith("timestamp"):
        return sa.TIMESTAMP(timezone="with time zone" in base)
    cls = names.get(base) or _STANDARD.get(base)
    if cls is None:
        return sa.types.NullType()
    try:
        return cls()
    except TypeError:
        return sa.types.NullType()
