// Points every official client at the running local stack before a test file loads.
// `npm test` starts the stack and runs jest inside it; `npm start` in another terminal works too.
import { readStackFile, stackEnvironment } from '../../scripts/local/stack-file';

const stack = readStackFile();
Object.assign(process.env, stackEnvironment(stack));
