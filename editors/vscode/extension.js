// Starts `villkor lsp` over stdio; everything else (diagnostics, hover, completion,
// formatting) comes from the server, so the editor and the CLI always agree.
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration("villkor").get("command", "villkor");
  const server = { command, args: ["lsp"] };
  client = new LanguageClient("villkor", "villkor", { run: server, debug: server }, {
    documentSelector: [{ scheme: "file", language: "villkor" }],
  });
  context.subscriptions.push(client);
  client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
