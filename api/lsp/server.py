"""The pygls server: LSP messages → workspace compilation and symbol lookup."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from urllib.parse import unquote, urlparse

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer

from api.lsp.symbols import completions, entity_at, lookup, word_at
from api.lsp.workspace import Workspace

QUALIFIED = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\.[A-Za-z0-9_]*$")
KINDS = {"variable": lsp.CompletionItemKind.Variable, "field": lsp.CompletionItemKind.Field,
         "function": lsp.CompletionItemKind.Function, "module": lsp.CompletionItemKind.Module,
         "class": lsp.CompletionItemKind.Class, "constant": lsp.CompletionItemKind.Constant}


def path_of(uri: str) -> Path:
    return Path(unquote(urlparse(uri).path))


def uri_of(path: Path) -> str:
    return path.resolve().as_uri()


def to_range(span) -> lsp.Range:
    start = lsp.Position(max(span.line - 1, 0), max(span.column - 1, 0))
    end = lsp.Position(max(span.end_line - 1, 0), max(span.end_column - 1, 0))
    return lsp.Range(start, end)


def build_server() -> LanguageServer:
    server = LanguageServer("metodika-lsp", "1.0")
    ws = Workspace()
    published: dict[Path, set[str]] = {}

    pending: dict[str, int] = {}

    async def check(uri: str, debounce: float = 0.0) -> None:
        """Compile in a worker thread (a package with the federal chain takes seconds; hover and
        completion stay answered meanwhile); a change that arrives while waiting supersedes this one."""
        ticket = pending[uri] = pending.get(uri, 0) + 1
        if debounce:
            await asyncio.sleep(debounce)
            if pending.get(uri) != ticket:
                return
        path = path_of(uri)
        result = await asyncio.get_running_loop().run_in_executor(None, ws.compile, path)
        if pending.get(uri) != ticket:
            return
        publish(uri, path, result)

    def publish(uri: str, path: Path, result) -> None:
        if result is None:
            server.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri, [_no_package(path)]))
            return
        uris = set()
        for file, diags in result.diagnostics.items():
            uris.add(uri_of(file))
            server.text_document_publish_diagnostics(
                lsp.PublishDiagnosticsParams(uri_of(file), [_diagnostic(d) for d in diags]))
        if result.general:
            uris.add(uri)
            here = result.diagnostics.get(path.resolve(), [])
            server.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(
                uri, [_diagnostic(d) for d in here + result.general]))
        for old in published.get(result.root, set()) - uris:    # fixed files: clear their diagnostics
            server.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(old, []))
        if uri not in uris:
            server.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri, []))
        published[result.root] = uris

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    async def did_open(ls, params: lsp.DidOpenTextDocumentParams):
        ws.set_text(path_of(params.text_document.uri), params.text_document.text)
        await check(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    async def did_change(ls, params: lsp.DidChangeTextDocumentParams):
        doc = ls.workspace.get_text_document(params.text_document.uri)
        ws.set_text(path_of(params.text_document.uri), doc.source)
        await check(params.text_document.uri, debounce=0.3)

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    async def did_save(ls, params: lsp.DidSaveTextDocumentParams):
        await check(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls, params: lsp.DidCloseTextDocumentParams):
        ws.set_text(path_of(params.text_document.uri), None)

    def found(ls, params):
        doc = ls.workspace.get_text_document(params.text_document.uri)
        lines = doc.source.splitlines()
        line = lines[params.position.line] if params.position.line < len(lines) else ""
        qualifier, word = word_at(line, params.position.character)
        m = ws.methodology_for(path_of(params.text_document.uri))
        if word is None or m is None:
            return None
        return lookup(m, qualifier, word, entity_at(lines, params.position.line))

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    def hover(ls, params: lsp.HoverParams):
        hit = found(ls, params)
        if hit is None:
            return None
        return lsp.Hover(lsp.MarkupContent(lsp.MarkupKind.Markdown, hit.markdown))

    @server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
    def definition(ls, params: lsp.DefinitionParams):
        hit = found(ls, params)
        if hit is None or hit.span is None:
            return None
        return [lsp.Location(uri_of(Path(hit.span.file)), to_range(hit.span))]

    @server.feature(lsp.TEXT_DOCUMENT_COMPLETION, lsp.CompletionOptions(trigger_characters=["."]))
    def completion(ls, params: lsp.CompletionParams):
        doc = ls.workspace.get_text_document(params.text_document.uri)
        lines = doc.source.splitlines()
        line = lines[params.position.line] if params.position.line < len(lines) else ""
        dotted = QUALIFIED.search(line[: params.position.character])
        qualifier = dotted.group(1) if dotted else None
        m = ws.methodology_for(path_of(params.text_document.uri))
        if m is None:
            return lsp.CompletionList(False, [])
        items = completions(m, qualifier, entity_at(lines, params.position.line))
        return lsp.CompletionList(False, [
            lsp.CompletionItem(i.label, kind=KINDS.get(i.kind), detail=i.detail,
                               documentation=lsp.MarkupContent(lsp.MarkupKind.Markdown, i.doc) if i.doc else None)
            for i in items])

    return server


def _diagnostic(d) -> lsp.Diagnostic:
    rng = to_range(d.span) if d.span is not None else lsp.Range(lsp.Position(0, 0), lsp.Position(0, 1))
    text = d.message + "".join(f"\nподсказка: {h}" for h in d.hints)
    severity = lsp.DiagnosticSeverity.Error if d.severity == "error" else lsp.DiagnosticSeverity.Warning
    return lsp.Diagnostic(rng, text, severity=severity, code=d.code, source="metodika")


def _no_package(path: Path) -> lsp.Diagnostic:
    return lsp.Diagnostic(lsp.Range(lsp.Position(0, 0), lsp.Position(0, 1)),
                          f"файл {path.name} не входит ни в один пакет: выше по дереву нет methodology.yaml",
                          severity=lsp.DiagnosticSeverity.Warning, source="metodika")


def main() -> int:
    build_server().start_io()
    return 0
