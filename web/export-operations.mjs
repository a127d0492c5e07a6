// Writes every operation of the dashboard (src/dashboard/operations.js) to
// operations/<Name>.graphql, byte for byte as the dashboard sends it, for
// `vitalgraph pq build web/operations -o FILE` (the persisted-query
// allow-list) and for the Go test that validates them against the schema.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ops from './src/dashboard/operations.js';

const dir = join(import.meta.dirname, 'operations');
mkdirSync(dir, { recursive: true });
for (const f of readdirSync(dir)) if (f.endsWith('.graphql')) rmSync(join(dir, f));
for (const text of Object.values(ops)) {
  const m = /^(query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)/.exec(text);
  if (!m) throw new Error(`an operation without a name: ${text.slice(0, 60)}`);
  writeFileSync(join(dir, `${m[2]}.graphql`), text); // no newline added: the hash is of the exact text
}
