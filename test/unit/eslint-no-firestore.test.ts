import { RuleTester, type Rule } from 'eslint';
import tseslint from 'typescript-eslint';

// The rule is plain CommonJS so eslint.config.mjs loads it without a build step.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const rule = require('../../scripts/eslint/no-firestore-outside-tenancy.js') as Rule.RuleModule;

const tester = new RuleTester({
  languageOptions: { parser: tseslint.parser, ecmaVersion: 2023, sourceType: 'module' },
});

const outside = '/repo/functions/src/extraction/pipeline.ts';
const inside = '/repo/functions/src/tenancy/firestore.ts';

tester.run('no-firestore-outside-tenancy', rule, {
  valid: [
    { filename: inside, code: "import { Firestore } from '@google-cloud/firestore';" },
    { filename: outside, code: "import { TenantDb } from '../tenancy/firestore';" },
    { filename: outside, code: "import { Storage } from '@google-cloud/storage';" },
  ],
  invalid: [
    {
      filename: outside,
      code: "import { Firestore } from '@google-cloud/firestore';",
      errors: [{ messageId: 'forbidden' }],
    },
    {
      filename: outside,
      code: "import type { Transaction } from '@google-cloud/firestore';",
      errors: [{ messageId: 'forbidden' }],
    },
    {
      filename: outside,
      code: "import { getFirestore } from 'firebase-admin/firestore';",
      errors: [{ messageId: 'forbidden' }],
    },
    {
      filename: outside,
      code: "const fs = require('@google-cloud/firestore');",
      errors: [{ messageId: 'forbidden' }],
    },
    {
      filename: outside,
      code: "void import('@google-cloud/firestore');",
      errors: [{ messageId: 'forbidden' }],
    },
    // A look-alike folder name outside functions/src is not the tenancy module.
    {
      filename: '/repo/scripts/tenancy/x.ts',
      code: "import { Firestore } from '@google-cloud/firestore';",
      errors: [{ messageId: 'forbidden' }],
    },
  ],
});
