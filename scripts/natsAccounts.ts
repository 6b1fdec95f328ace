/** Writes deploy/nats/accounts.conf from src/bus/permissions.ts (`npx tsx scripts/natsAccounts.ts`). */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { accountsConf } from '../src/bus/permissions.js';
import { DEPENDENCY_NAMES } from '../src/dependencies/mod.js';
import { sources } from '../src/sources/registry.js';

const file = fileURLToPath(new URL('../deploy/nats/accounts.conf', import.meta.url));
writeFileSync(file, accountsConf({ sources: [...sources.keys()], dependencies: [...DEPENDENCY_NAMES] }));
console.log(`wrote ${file}`);
