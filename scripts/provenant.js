#!/usr/bin/env node
// The package's `bin`: runs the compiled CLI (built by `npm ci` through the prepare script).
const path = require('node:path');
const fs = require('node:fs');
const nodeModule = require('node:module');

const entry = path.join(__dirname, '..', 'build', 'scripts', 'cli.js');
if (!fs.existsSync(entry)) {
  console.error('provenant is not built yet: run `npm run build` first.');
  process.exit(1);
}
// Every command loads the Google client libraries: most of a second of compiling on each
// start. Node (22.1 and later) keeps the compiled code in its on-disk cache (under the system
// temp folder, or NODE_COMPILE_CACHE), so later starts skip most of it. A cache it cannot
// write is not an error: the command runs, uncached. Older Node has no such cache.
nodeModule.enableCompileCache?.();
require(entry);
