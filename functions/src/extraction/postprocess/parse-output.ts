/** parse-output@1: the model's text as JSON, validated against the schema's model output. */
import { InvalidModelOutputError, type Step } from './types';

export const parseOutput: Step = {
  name: 'parse-output',
  version: 1,
  run(input, { schema }) {
    let json: unknown;
    try {
      json = JSON.parse(String(input));
    } catch {
      throw new InvalidModelOutputError('model output is not valid JSON');
    }
    const parsed = schema.modelOutput.safeParse(json);
    if (!parsed.success) {
      throw new InvalidModelOutputError(
        `model output does not match schema ${schema.name}: ${parsed.error.issues.length} issue(s)`,
      );
    }
    return parsed.data;
  },
};
