// Applies `definitionSubstitutions` to a state-machine definition the way CloudFormation does for
// CDK's DefinitionSubstitutions: every `${Key}` token is replaced textually by its value, `${!Key}`
// stays as the literal `${Key}`, and a token without a value is an error rather than left behind.
import { LocalRuntimeError } from './errors';

export type DefinitionSubstitutions = Readonly<Record<string, string | number | boolean>>;

export class MissingSubstitutionError extends LocalRuntimeError {
  readonly code = 'MissingSubstitution';
  constructor(readonly keys: readonly string[]) {
    super(`The definition uses substitution(s) with no value: ${keys.map((k) => `\${${k}}`).join(', ')}`);
  }
}

export class InvalidDefinitionJsonError extends LocalRuntimeError {
  readonly code = 'InvalidDefinitionJson';
}

const TOKEN = /\$\{([^{}]*)\}/g;

/** Returns the definition text with every `${Key}` replaced; throws MissingSubstitutionError naming all missing keys. */
export function applyDefinitionSubstitutions(definition: string, substitutions: DefinitionSubstitutions = {}): string {
  const missing = new Set<string>();
  const result = definition.replace(TOKEN, (token, key: string) => {
    if (key.startsWith('!')) return `\${${key.slice(1)}}`;
    if (!Object.hasOwn(substitutions, key)) {
      missing.add(key);
      return token;
    }
    return String(substitutions[key]);
  });
  if (missing.size > 0) throw new MissingSubstitutionError([...missing]);
  return result;
}

/** Substitutes and parses a definition, reporting bad JSON (e.g. a value that broke quoting) clearly. */
export function parseDefinition(definition: string, substitutions: DefinitionSubstitutions = {}): Record<string, unknown> {
  const text = applyDefinitionSubstitutions(definition, substitutions);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new InvalidDefinitionJsonError(`The definition is not valid JSON after substitution: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidDefinitionJsonError('The definition must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}
