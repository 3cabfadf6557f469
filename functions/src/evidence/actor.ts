/**
 * Who did something, as every evidence record names it: an API key, a person (a Firebase uid)
 * or one of the platform's own services. One type for the API, the worker, the lifecycle
 * workflows and the CLI.
 */
import { z } from 'zod';

export const ActorSchema = z.strictObject({
  kind: z.enum(['apiKey', 'user', 'service']),
  id: z.string(),
});
export type Actor = z.infer<typeof ActorSchema>;

/** The operator CLI acting without a person's identity (rotation, offboarding from a shell). */
export const CLI_ACTOR: Actor = { kind: 'service', id: 'provenant-cli' };

/** `apiKey:<id>`, `user:<uid>`, `service:<name>`: how a record's `createdBy` names an actor. */
export function actorLabel(actor: Actor): string {
  return `${actor.kind}:${actor.id}`;
}
