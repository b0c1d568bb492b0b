/** The inventory of the ssh provider: which existing host plays which node of the lab, and how to reach it. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as z from 'zod';
import { LabError } from '../../errors.js';
import { problemsFromZod } from '../../lab/zod-problems.js';
import { locateProblems } from '../../lab/problems.js';
import { loadYamlFile } from '../../lab/yaml-file.js';

const word = z.string().regex(/^[A-Za-z0-9_.:/,@%+=-]{1,200}$/, 'a command word without shell characters');

export const inventorySchema = z.strictObject({
  hosts: z.record(
    z.string().regex(/^[a-z][a-z0-9-]{0,11}$/, 'a node name of the lab'),
    z.strictObject({
      address: z.string().regex(/^[A-Za-z0-9.:-]{1,253}$/, 'a host name or IP address'),
      port: z.number().int().min(1).max(65535).default(22),
      user: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'a user name'),
      key: z.string().min(1),
      hostKey: z.union([z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'a SHA256 fingerprint as ssh-keygen -lf prints it'), z.literal('insecure-accept-any')]),
      sudo: z.boolean().default(false),
      proxyCommand: z.array(word).min(1).optional(),
      workDir: z
        .string()
        .regex(/^\/[A-Za-z0-9_./+-]+$/, 'an absolute path')
        .optional(),
    }),
  ),
});

export type Inventory = z.output<typeof inventorySchema>;
export type InventoryHost = Inventory['hosts'][string];

export function loadInventory(file: string): Inventory {
  if (!fs.existsSync(file))
    throw new LabError(`cannot read the inventory ${file}: no such file`, { hint: 'pass --inventory <file> (see the README, ssh provider)' });
  const { doc, counter, data } = loadYamlFile(file, file);
  const parsed = inventorySchema.safeParse(data ?? {});
  if (!parsed.success) {
    const problems = problemsFromZod(inventorySchema, parsed.error.issues, data);
    throw new LabError(`${file} is not a valid inventory (${problems.length} problem${problems.length === 1 ? '' : 's'})`, {
      details: locateProblems(file, doc, counter, problems),
    });
  }
  return parsed.data;
}

export function keyPath(key: string, inventoryFile: string): string {
  const expanded = key.startsWith('~/') ? path.join(os.homedir(), key.slice(2)) : key;
  return path.resolve(path.dirname(inventoryFile), expanded);
}
