"""The language server driven over real LSP JSON-RPC (stdio, `metodika lsp` in a subprocess):
initialize → didOpen → publishDiagnostics; didChange fixes them; hover; definition across
`extends`; completion of names, fields and primitives."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
from lsprotocol import types as lsp
from pygls.lsp.client import LanguageClient

ROOT = Path(__file__).parents[2]
FIXTURE = ROOT / "tests" / "dsl" / "fixture"
GOOD = """for case:
    @label "Стоимость по тарифу региона"
    @ref "ТС региона, п. 5"
    @unit "руб."
    region_cost: money = round_money(base_rate * 2)
    other: int = 1
"""
BAD = GOOD.replace("base_rate * 2", "base_rat * 2")


def make(tmp: Path) -> Path:
    pkg = tmp / "region"
    pkg.mkdir()
    (pkg / "methodology.yaml").write_text(
        f"id: region\nversion: 1.0.0\ntitle: регион\nextends: {os.path.relpath(FIXTURE, pkg)}\nmodules: [r.rules]\n",
        encoding="utf-8")
    (pkg / "r.rules").write_text(GOOD, encoding="utf-8")
    return pkg


class Session:
    def __init__(self, pkg: Path) -> None:
        self.pkg = pkg
        self.client = LanguageClient("metodika-test", "1")
        self.diagnostics: dict[str, list[lsp.Diagnostic]] = {}
        self.changed = asyncio.Event()

        @self.client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def on_diagnostics(ls, params: lsp.PublishDiagnosticsParams):
            self.diagnostics[params.uri] = params.diagnostics
            self.changed.set()

    async def start(self) -> None:
        env = dict(os.environ, PYTHONPATH=str(ROOT), METODIKA_CACHE="off")
        await self.client.start_io(sys.executable, "-m", "api.cli.main", "lsp", cwd=str(self.pkg.parent), env=env)
        await self.client.initialize_async(lsp.InitializeParams(
            capabilities=lsp.ClientCapabilities(), root_uri=self.pkg.as_uri()))
        self.client.initialized(lsp.InitializedParams())

    async def wait_diagnostics(self, uri: str, pred, timeout: float = 120) -> list[lsp.Diagnostic]:
        deadline = asyncio.get_running_loop().time() + timeout
        while not (uri in self.diagnostics and pred(self.diagnostics[uri])):
            self.changed.clear()
            left = deadline - asyncio.get_running_loop().time()
            assert left > 0, self.diagnostics
            await asyncio.wait_for(self.changed.wait(), left)
        return self.diagnostics[uri]

    async def stop(self) -> None:
        await self.client.shutdown_async(None)
        self.client.exit(None)
        await self.client.stop()


def run(pkg: Path, body) -> None:
    """Start a server session, open a document (uri, language, text), run body(session), stop."""
    async def go():
        s = Session(pkg)
        await s.start()
        try:
            await body(s)
        finally:
            await s.stop()

    asyncio.run(go())


def open_doc(s: Session, uri: str, language: str, text: str) -> None:
    s.client.text_document_did_open(lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(uri, language, 1, text)))


def test_diagnostics_hover_definition_completion(tmp_path):
    pkg = make(tmp_path)
    rules = pkg / "r.rules"
    uri = rules.resolve().as_uri()

    async def scenario(s: Session):
        # open with an error: the server publishes it with the LSP range of the name
        open_doc(s, uri, "metodika-rules", BAD)
        diags = await s.wait_diagnostics(uri, lambda d: len(d) > 0)
        assert [(d.code, d.range.start.line, d.range.start.character, d.range.end.character) for d in diags] == \
            [("E0101", 4, 37, 45)]
        assert "неизвестное имя «base_rat»" in diags[0].message and "base_rate" in diags[0].message
        # the unsaved fix clears them (the file on disk still has the good text: edit it to bad first)
        rules.write_text(BAD, encoding="utf-8")
        s.client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            lsp.VersionedTextDocumentIdentifier(uri=uri, version=2),
            [lsp.TextDocumentContentChangeWholeDocument(GOOD)]))
        assert list(await s.wait_diagnostics(uri, lambda d: len(d) == 0)) == []
        rules.write_text(GOOD, encoding="utf-8")

        # hover over a parameter of the base package: label, type, unit, reference, package
        hover = await s.client.text_document_hover_async(lsp.HoverParams(
            lsp.TextDocumentIdentifier(uri), lsp.Position(4, 40)))
        text = hover.contents.value
        assert "**Базовая ставка, КС** — параметр `base_rate: money`, руб." in text
        assert "основание: Тарифное соглашение, п. 4.1 (учебный пример)" in text
        assert "определено в пакете `fixture@1.0.0`" in text
        # hover over the definition itself
        hover = await s.client.text_document_hover_async(lsp.HoverParams(
            lsp.TextDocumentIdentifier(uri), lsp.Position(4, 8)))
        assert "**Стоимость по тарифу региона** — `case.region_cost: money`, руб." in hover.contents.value
        assert "определено в пакете `region@1.0.0`" in hover.contents.value
        # hover over a primitive
        hover = await s.client.text_document_hover_async(lsp.HoverParams(
            lsp.TextDocumentIdentifier(uri), lsp.Position(4, 27)))
        assert "round_money(x: number, digits: int = 2) -> money" in hover.contents.value

        # go to definition across extends: the parameter's declaration in the base package
        locs = await s.client.text_document_definition_async(lsp.DefinitionParams(
            lsp.TextDocumentIdentifier(uri), lsp.Position(4, 40)))
        assert [(loc.uri, loc.range.start.line) for loc in locs] == \
            [((FIXTURE / "parameters.yaml").resolve().as_uri(), 0)]

        # completion: names of the package and primitives; after «case.» the entity's fields
        s.client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            lsp.VersionedTextDocumentIdentifier(uri=uri, version=3),
            [lsp.TextDocumentContentChangeWholeDocument(GOOD + "    probe: int = case.\n")]))
        items = await s.client.text_document_completion_async(lsp.CompletionParams(
            lsp.TextDocumentIdentifier(uri), lsp.Position(6, 26)))
        fields = {i.label: i for i in items.items}
        assert {"lpu", "usl_ok", "date_z_1", "region_cost"} <= set(fields)
        assert "base_rate" not in fields
        items = await s.client.text_document_completion_async(lsp.CompletionParams(
            lsp.TextDocumentIdentifier(uri), lsp.Position(5, 17)))
        names = {i.label: i for i in items.items}
        assert {"base_rate", "ksg", "round_money", "default", "region_cost", "case"} <= set(names)
        assert names["round_money"].detail == "round_money(x: number, digits: int = 2) -> money"
        assert names["ksg"].detail == "таблица [code]"

    run(pkg, scenario)


def test_yaml_error_is_published_for_the_manifest(tmp_path):
    pkg = make(tmp_path)
    manifest = pkg / "methodology.yaml"
    uri = manifest.resolve().as_uri()
    text = manifest.read_text(encoding="utf-8") + "modulez: []\n"

    async def scenario(s: Session):
        open_doc(s, uri, "yaml", text)
        diags = await s.wait_diagnostics(uri, lambda d: len(d) > 0)
        assert diags[0].code == "E0601" and "неизвестное поле «modulez»" in diags[0].message
        assert diags[0].range.start.line == 5

    run(pkg, scenario)


@pytest.mark.skipif(not (ROOT / "editors" / "vscode" / "package.json").is_file(), reason="no extension")
def test_vscode_extension_declares_the_language_and_the_server():
    import json

    pkg = json.loads((ROOT / "editors" / "vscode" / "package.json").read_text(encoding="utf-8"))
    langs = {lang["id"]: lang for lang in pkg["contributes"]["languages"]}
    assert ".rules" in langs["metodika-rules"]["extensions"]
    grammar = pkg["contributes"]["grammars"][0]
    assert (ROOT / "editors" / "vscode" / grammar["path"]).is_file()
    assert "metodika" in (ROOT / "editors" / "vscode" / "extension.js").read_text(encoding="utf-8")
