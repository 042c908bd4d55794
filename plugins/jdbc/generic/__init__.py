"""The generic dialect: databases without a hand-tuned path, through SQLAlchemy Core (Confluent's
GenericDatabaseDialect). Nothing here is imported unless a connection.url selects it."""
