// Writes openapi.json, the committed copy of what GET /openapi.json serves:
//   npx tsx scripts/openapi.ts
// test/http/openapi.test.ts fails while the two differ.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildOpenApiDocument } from '../src/http/openapi/document.js';
import { sources } from '../src/sources/registry.js';

const file = fileURLToPath(new URL('../openapi.json', import.meta.url));
writeFileSync(file, `${JSON.stringify(buildOpenApiDocument(sources), null, 2)}\n`);
console.log(`wrote ${file}`);
