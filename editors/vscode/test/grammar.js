// Tokenises a spec text with the extension's TextMate grammar through VS Code's own engine
// (vscode-textmate over the Oniguruma regex library) and checks the scope of each word:
// `npm install && npm test`.
const assert = require("assert");
const fs = require("fs");
const path = require("path");
const vsctm = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

const grammarPath = path.join(__dirname, "..", "syntaxes", "spec.tmLanguage.json");
const wasm = fs.readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm")).buffer;
const registry = new vsctm.Registry({
  onigLib: oniguruma.loadWASM(wasm).then(() => ({
    createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
    createOnigString: (text) => new oniguruma.OnigString(text),
  })),
  loadGrammar: async () => vsctm.parseRawGrammar(fs.readFileSync(grammarPath, "utf8"), grammarPath),
});

const text = `import std.postgres
# the database
service db {
  use std.postgres { version = 16 }
  on = node.prod1   # where
  image = "nginx:\${tag} # not a comment"
  ports { http = 8080/tcp }
  memory = 4GiB
  enabled = true
  assert replicas >= 3 && !ready, "three"
  script = ''
    echo "#not a comment"
  ''
}
`;

// [word, the innermost scope it must have], in text order (words not listed are not checked).
const expected = [
  ["import", "keyword.control.spec"],
  ["postgres", "variable.other.spec"],
  ["# the database", "comment.line.number-sign.spec"],
  ["service", "keyword.other.kind.spec"],
  ["db", "entity.name.type.spec"],
  ["use", "keyword.control.spec"],
  ["version", "variable.other.property.spec"],
  ["16", "constant.numeric.integer.spec"],
  ["on", "variable.other.property.spec"],
  ["node", "entity.name.type.spec"],
  ["prod1", "variable.other.spec"],
  ["# where", "comment.line.number-sign.spec"],
  ["${", "punctuation.section.interpolation.begin.spec"],
  ["tag", "meta.interpolation.spec"],
  [" # not a comment", "string.quoted.double.spec"],
  ["8080/tcp", "constant.numeric.port.spec"],
  ["4GiB", "constant.numeric.unit.spec"],
  ["true", "constant.language.boolean.spec"],
  ["assert", "keyword.control.spec"],
  [">=", "keyword.operator.comparison.spec"],
  ["&&", "keyword.operator.comparison.spec"],
  ["!", "keyword.operator.comparison.spec"],
  ['    echo "#not a comment"', "string.quoted.other.raw.spec"],
];

registry.loadGrammar("source.spec").then((grammar) => {
  let state = vsctm.INITIAL;
  const found = [];
  for (const line of text.split("\n")) {
    const result = grammar.tokenizeLine(line, state);
    for (const token of result.tokens) {
      found.push([line.substring(token.startIndex, token.endIndex), token.scopes[token.scopes.length - 1]]);
    }
    state = result.ruleStack;
  }
  let at = 0;
  for (const [word, scope] of expected) {
    const index = found.findIndex(([w], i) => i >= at && w === word);
    assert.notStrictEqual(index, -1, `\`${word}\` is not a token of its own: ${JSON.stringify(found)}`);
    assert.strictEqual(found[index][1], scope, `the scope of \`${word}\``);
    at = index + 1;
  }
  console.log(`grammar: ${expected.length} words scoped as expected`);
});
