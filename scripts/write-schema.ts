/** Writes schema/lab.schema.json from the zod schema with each provider's own section, for editors (yaml-language-server). */
import fs from 'node:fs';
import path from 'node:path';
import * as z from 'zod';
import { labFileSchemaWith } from '../src/lab/schema.js';
import { providerSettings } from '../src/providers/registry.js';
import { packageRoot } from '../src/paths.js';

const schema = z.toJSONSchema(labFileSchemaWith(providerSettings), { io: 'input', unrepresentable: 'any' });
const file = path.join(packageRoot, 'schema', 'lab.schema.json');
fs.mkdirSync(path.dirname(file), { recursive: true });
fs.writeFileSync(file, `${JSON.stringify({ ...schema, title: 'lab file' }, null, 2)}\n`);
