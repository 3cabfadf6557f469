/**
 * Customer witnesses (C2SP tlog-cosignature): a tenant's admin registers a witness key; the
 * witness, holding a read key, posts its cosignature over a checkpoint it checked.
 */
import { z } from 'zod';
import { actorLabel } from '../evidence/actor';
import { notFound } from '../errors';
import { acceptCosignature, listWitnesses, registerWitness } from '../ledger/witnesses';
import { jsonObject } from './body';
import { route } from './route';
import { AnyObject } from './views';

export const RegisterWitnessBody = z.strictObject({ vkey: z.string().min(1).max(512) });
export const CosignatureBody = z.strictObject({ cosignature: z.string().min(1).max(1024) });

export const witnessRoutes = [
  route({
    method: 'GET',
    pattern: '/v1/witnesses',
    auth: { scope: 'extractions:read' },
    summary: 'The witness keys registered for the tenant log',
    ok: [{ status: 200, schema: AnyObject, description: '{witnesses}' }],
    errors: [],
    handle: async ({ services, tenant }) => ({
      status: 200,
      body: { witnesses: await listWitnesses(services, tenant) },
    }),
  }),

  route({
    method: 'POST',
    pattern: '/v1/witnesses',
    auth: { scope: 'keys:admin' },
    body: jsonObject(RegisterWitnessBody),
    summary: 'Register a witness key (Ed25519 cosigner vkey)',
    ok: [{ status: 201, schema: AnyObject, description: 'The registered witness' }],
    errors: [400, 409, 415, 422],
    handle: async ({ services, tenant, actor, body }) => ({
      status: 201,
      body: await registerWitness(services, tenant, body.vkey, actorLabel(actor)),
    }),
  }),

  route({
    method: 'POST',
    pattern: '/v1/evidence/checkpoints/:seq/cosignatures',
    auth: { scope: 'extractions:read' },
    body: jsonObject(CosignatureBody),
    summary: "Submit a registered witness's cosignature over checkpoint seq",
    ok: [{ status: 201, schema: AnyObject, description: 'The cosigned checkpoint' }],
    errors: [400, 404, 409, 415, 422],
    handle: async ({ services, tenant, params: { seq }, body }) => {
      if (!/^[1-9][0-9]{0,14}$/.test(seq)) throw notFound('checkpoint');
      return {
        status: 201,
        body: await acceptCosignature(services, tenant, Number(seq), body.cosignature),
      };
    },
  }),
];
