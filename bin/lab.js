#!/usr/bin/env node
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCli } from '../dist/src/bundle-entry.js';

await startCli(path.dirname(path.dirname(fileURLToPath(import.meta.url))));
