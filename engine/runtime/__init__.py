"""Language runtime: compiled packages, parameters, tables, schema, datasets, tests, diff."""
