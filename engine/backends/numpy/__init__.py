"""The numpy backend: vectorized evaluation of the typed IR, checks, explain."""
