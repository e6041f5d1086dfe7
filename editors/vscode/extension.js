// Starts `spec lsp` for `.spec` files; everything else is the server's.
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration("spec").get("path", "spec");
  const server = { command, args: ["lsp"] };
  client = new LanguageClient("spec", "spec", server, {
    documentSelector: [{ scheme: "file", language: "spec" }],
  });
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
