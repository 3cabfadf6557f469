import { mkdtempSync, realpathSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { locateGoogleEmulators } from '../../scripts/local/google-emulators';
import { StackError } from '../../scripts/local/processes';

const emptyHome = mkdtempSync(path.join(os.tmpdir(), 'home-'));

function failure(env: NodeJS.ProcessEnv, roots: string[]): StackError {
  try {
    locateGoogleEmulators(env, roots);
  } catch (err) {
    expect(err).toBeInstanceOf(StackError);
    return err as StackError;
  }
  throw new Error('locateGoogleEmulators found everything');
}

describe('locating the Java emulators', () => {
  it('names the Java package to install when no java runs', () => {
    const err = failure({ PATH: '/nonexistent', HOME: emptyHome }, []);
    expect(err.message).toMatch(/Java was not found.*apt-get install openjdk-17-jre-headless/);
  });

  it('names the emulator packages to install when the SDK has none', () => {
    const javaHome = path.dirname(
      path.dirname(
        realpathSync(execFileSync('bash', ['-c', 'command -v java'], { encoding: 'utf8' }).trim()),
      ),
    );
    const err = failure(
      { PATH: '/nonexistent', HOME: emptyHome, JAVA_HOME: javaHome, CLOUDSDK_ROOT_DIR: emptyHome },
      [],
    );
    expect(err.message).toMatch(
      /Firestore emulator was not found.*google-cloud-cli-firestore-emulator/,
    );
  });

  it('finds both emulators in the installed SDK', () => {
    const found = locateGoogleEmulators();
    expect(found.firestoreJar).toMatch(/cloud-firestore-emulator.*\.jar$/);
    expect(found.pubsubLauncher).toMatch(/cloud-pubsub-emulator$/);
  });
});
