#!/usr/bin/env node
// CommonJS on purpose: an ES-module entry makes Node set up its ES-module loader first, about 10 ms of every command.
// What runs next is src/bundle-entry.cts.
const path = require('node:path');

require('../dist/src/bundle-entry.cjs').startCli(path.dirname(__dirname));
