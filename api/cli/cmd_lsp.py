"""`metodika lsp`: the language server on stdin/stdout (for VS Code and other LSP editors)."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("lsp", help="языковой сервер (LSP) для .rules и YAML пакетов: ошибки, подсказки, переход к "
                                   "определению, дополнение; обмен через stdin/stdout")
    p.set_defaults(handler=cmd_lsp)


def cmd_lsp(args) -> int:
    from api.lsp.server import main

    return main()
