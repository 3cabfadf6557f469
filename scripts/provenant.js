#!/usr/bin/env node
// The package's `bin`: runs the compiled CLI (built by `npm ci` through the prepare script).
const path = require('node:path');
const fs = require('node:fs');

const entry = path.join(__dirname, '..', 'build', 'scripts', 'cli.js');
if (!fs.existsSync(entry)) {
  console.error('provenant is not built yet: run `npm run build` first.');
  process.exit(1);
}
require(entry);
