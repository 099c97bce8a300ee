"""Language server for methodology packages (`metodika lsp`): diagnostics, hover, definition,
completion for `.rules` files and package YAML. Sits above the engine: it compiles packages."""
