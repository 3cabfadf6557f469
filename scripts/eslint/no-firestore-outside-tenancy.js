// Custom lint rule: the Firestore client may be imported only by the tenancy module, whose
// TenantDb builds every path under tenants/{tenantId}. Anywhere else, an import of the client
// is how a query without a tenant filter would be written, so it fails the build.
'use strict';

const FORBIDDEN = ['@google-cloud/firestore', 'firebase-admin/firestore'];

function allowed(filename) {
  return /[\\/]functions[\\/]src[\\/]tenancy[\\/][^\\/]+\.ts$/.test(filename);
}

/** @type {import('eslint').Rule.RuleModule} */
module.exports = {
  meta: {
    type: 'problem',
    docs: { description: 'forbid the Firestore client outside functions/src/tenancy' },
    schema: [],
    messages: {
      forbidden:
        '{{source}} may only be imported in functions/src/tenancy: reach tenant data through TenantDb.',
    },
  },
  create(context) {
    if (allowed(context.filename)) return {};
    const check = (node, source) => {
      if (
        typeof source === 'string' &&
        FORBIDDEN.some((f) => source === f || source.startsWith(`${f}/`))
      ) {
        context.report({ node, messageId: 'forbidden', data: { source } });
      }
    };
    return {
      ImportDeclaration(node) {
        check(node, node.source.value);
      },
      ImportExpression(node) {
        if (node.source.type === 'Literal') check(node, node.source.value);
      },
      CallExpression(node) {
        const [arg] = node.arguments;
        if (
          node.callee.type === 'Identifier' &&
          node.callee.name === 'require' &&
          arg &&
          arg.type === 'Literal'
        ) {
          check(node, arg.value);
        }
      },
    };
  },
};
