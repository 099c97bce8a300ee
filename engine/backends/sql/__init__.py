"""SQL backend: the typed IR as SQL (sqlglot), run inside PostgreSQL (Spark dialect: spark.py)."""
