// Validates an AsyncAPI document with the official parser (@asyncapi/parser), which
// checks it against the AsyncAPI JSON Schema and its Spectral rules.
//   NODE_PATH=$(./install.sh) node validate-asyncapi.mjs FILE
// Prints every diagnostic; exits 1 if there is an error, or a warning.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(path.join(process.env.NODE_PATH, "noop.js"));
const { Parser } = require("@asyncapi/parser");

const file = process.argv[2];
const { document, diagnostics } = await new Parser().parse(readFileSync(file, "utf8"));
const severities = ["error", "warning", "info", "hint"];
for (const d of diagnostics) {
  console.log(`${severities[d.severity]}: ${d.code}: ${d.message} at /${d.path.join("/")}`);
}
const bad = diagnostics.filter((d) => d.severity <= 1);
if (!document || bad.length > 0) {
  console.log(`${file}: ${bad.length} errors or warnings`);
  process.exit(1);
}
console.log(`${file}: valid AsyncAPI ${document.version()}, ${document.channels().length} channels, ` +
  `${document.operations().length} operations, ${document.messages().length} messages`);
