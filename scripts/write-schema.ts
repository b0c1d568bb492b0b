/** Writes schema/lab.schema.json from the zod schema with each provider's own section, for editors (yaml-language-server). */
import fs from 'node:fs';
import path from 'node:path';
import * as z from 'zod';
import { labFileSchemaWith } from '../src/lab/schema.js';
import { providerSettings } from '../src/providers/registry.js';
import { declaredJsonSchemas } from '../src/lab/declared/json-schema.js';
import { packageRoot } from '../src/paths.js';

type Json = Record<string, unknown>;

const schema = z.toJSONSchema(labFileSchemaWith(providerSettings), { io: 'input', unrepresentable: 'any' }) as Json;
// The lab file's schema only requires a declared scenario's steps and rules to be there (they are checked per variant,
// after placeholders are substituted): editors get each step and measure kind's fields from the kinds' own schemas.
const declared = ((schema.properties as Json).scenario as { anyOf: Json[] }).anyOf.find((s) => 'steps' in (s.properties as Json));
if (!declared) throw new Error('write-schema: no declared scenario (one with steps) in the lab file schema');
const { steps, verdict, defs } = declaredJsonSchemas();
Object.assign(declared.properties as Json, { steps, verdict });
const file = path.join(packageRoot, 'schema', 'lab.schema.json');
fs.mkdirSync(path.dirname(file), { recursive: true });
fs.writeFileSync(file, `${JSON.stringify({ ...schema, $defs: { ...(schema.$defs as Json | undefined), ...defs }, title: 'lab file' }, null, 2)}\n`);
