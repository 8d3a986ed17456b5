/**
 * JSON Schemas of tool arguments: checked once at start-up (a tool whose schema is broken is a
 * configuration error, not a call-time surprise) and compiled once for validating the model's
 * arguments before anything is sent to the CRM. Ajv does the work.
 */
import { Ajv, type ValidateFunction } from 'ajv';

const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });

/** Problems with a tool's `parameters` schema (empty when usable): OpenAI wants an object schema. */
export function jsonSchemaProblems(schema: Record<string, unknown>): string[] {
  const problems: string[] = [];
  if (schema.type !== 'object') problems.push('the parameters schema must have "type": "object"');
  if (!ajv.validateSchema(schema)) {
    for (const e of ajv.errors ?? [])
      problems.push(`invalid JSON Schema: ${e.instancePath || '/'} ${e.message ?? ''}`.trim());
    return problems;
  }
  try {
    ajv.compile(schema);
  } catch (err) {
    problems.push(`invalid JSON Schema: ${err instanceof Error ? err.message : String(err)}`);
  }
  return problems;
}

/** A validator of tool arguments: `undefined` when they fit the schema, else one readable line. */
export type ArgumentsCheck = (args: unknown) => string | undefined;

const compiled = new WeakMap<object, ValidateFunction>();

/** Compiles (once per schema object) a check of arguments against `schema`. */
export function argumentsCheck(schema: Record<string, unknown>): ArgumentsCheck {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  const fn = validate;
  return (args) => {
    if (fn(args)) return undefined;
    return (fn.errors ?? []).map((e) => `${e.instancePath || '(arguments)'} ${e.message ?? 'is invalid'}`).join('; ');
  };
}
