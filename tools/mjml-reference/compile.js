#!/usr/bin/env node
// Compiles MJML with the official npm package for the fidelity test and the benchmark.
// Reads a JSON array of MJML sources on stdin and writes a JSON object to stdout:
// {"results": [{"html": "...", "errors": [...]}], "ms_per_compile": [..]}.
// With --repeat N every source is compiled N times and the mean time per compile is reported.
'use strict';
const mjml2html = require('mjml');

function readStdin() {
  return new Promise((resolve) => {
    const chunks = [];
    process.stdin.on('data', (c) => chunks.push(c));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

async function main() {
  const repeatAt = process.argv.indexOf('--repeat');
  const repeat = repeatAt > 0 ? Math.max(1, parseInt(process.argv[repeatAt + 1], 10) || 1) : 1;
  const sources = JSON.parse(await readStdin());
  const options = { validationLevel: 'soft', keepComments: false };
  const results = [];
  const msPerCompile = [];
  for (const source of sources) {
    const first = mjml2html(source, options);
    results.push({ html: first.html, errors: first.errors.map((e) => e.formattedMessage || e.message) });
    const start = process.hrtime.bigint();
    for (let i = 0; i < repeat; i += 1) mjml2html(source, options);
    msPerCompile.push(Number(process.hrtime.bigint() - start) / 1e6 / repeat);
  }
  process.stdout.write(JSON.stringify({ results, ms_per_compile: msPerCompile }));
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err));
  process.exit(1);
});
