"""Users, roles, the permission matrix, password hashing, tokens and data scoping."""
