/**
 * The `provenant` command. Against the local stack, its endpoints come from
 * `.local/stack.json` (only when the environment names no project); in production the
 * environment carries the same variables the functions read.
 */
import { existsSync } from 'node:fs';
import { runCli } from '../functions/src/cli/program';
import { setLogSink } from '../functions/src/logging';
import { readStackFile, stackEnvironment, stackFilePath } from './local/stack-file';

if (process.env.GOOGLE_CLOUD_PROJECT === undefined && existsSync(stackFilePath())) {
  Object.assign(process.env, stackEnvironment(readStackFile()));
}

// The domain modules log as the functions do; in the CLI those lines are diagnostics, so they
// go to stderr and stdout holds only the command's result (one JSON document with --json).
setLogSink((line) => process.stderr.write(line + '\n'));

runCli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
