// Metodika for VS Code: starts `metodika lsp` (setting metodika.command) for .rules files and the
// package YAML (methodology.yaml, parameters, tables, tests), diagnostics as `metodika check`.
const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration("metodika").get("command") || ["metodika", "lsp"];
  const serverOptions = { command: command[0], args: command.slice(1), transport: TransportKind.stdio };
  const clientOptions = {
    documentSelector: [
      { scheme: "file", language: "metodika-rules" },
      { scheme: "file", language: "yaml", pattern: "**/{methodology,parameters,tables,schema}*.yaml" },
    ],
  };
  client = new LanguageClient("metodika", "Metodika", serverOptions, clientOptions);
  client.start();
  context.subscriptions.push({ dispose: () => client && client.stop() });
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
