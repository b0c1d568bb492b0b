#!/usr/bin/env node
// The entry is bin/lab.cjs (see there). This file stays for links made before it: npx keeps the bin link it made for a
// local package, and one made earlier still points here.
import './lab.cjs';
