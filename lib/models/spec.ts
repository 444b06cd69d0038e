// Parses model spec strings (`bedrock:…`, `openai:…@…`, `replay:…`) — the one way a model is
// named in the CLI, project config and CAHOOTS_MODEL — into a typed description of the provider.
import { ModelSpecSchema } from '../domain/settings';
import { InvalidModelSpecError } from './errors';

export interface BedrockModelSpec {
  provider: 'bedrock';
  spec: string;
  /** Passed to Converse as-is: a model id, an inference-profile id or an ARN. */
  modelId: string;
  /** Set when the model id is an ARN, whose region must also be the client's region. */
  region?: string;
}

export interface OpenAIModelSpec {
  provider: 'openai';
  spec: string;
  model: string;
  /** Without a trailing slash, e.g. `http://localhost:11434/v1`. */
  baseUrl: string;
}

export interface ReplayModelSpec {
  provider: 'replay';
  spec: string;
  path: string;
}

export type ParsedModelSpec = BedrockModelSpec | OpenAIModelSpec | ReplayModelSpec;
export type ModelProviderName = ParsedModelSpec['provider'];

const BEDROCK_ARN = /^arn:aws(?:-[a-z]+)*:bedrock:([a-z0-9-]+):(\d{12})?:([a-z-]+)\/(.+)$/;

export function parseModelSpec(spec: string): ParsedModelSpec {
  if (typeof spec !== 'string' || spec.trim() === '') {
    throw new InvalidModelSpecError(String(spec), 'it is empty');
  }
  if (/\s/.test(spec)) throw new InvalidModelSpecError(spec, 'it contains whitespace');
  const colon = spec.indexOf(':');
  const prefix = colon < 0 ? '' : spec.slice(0, colon);
  const rest = colon < 0 ? '' : spec.slice(colon + 1);

  let parsed: ParsedModelSpec;
  switch (prefix) {
    case 'bedrock':
      parsed = parseBedrock(spec, rest);
      break;
    case 'openai':
      parsed = parseOpenAI(spec, rest);
      break;
    case 'replay':
      if (rest === '') throw new InvalidModelSpecError(spec, 'replay needs a file path after "replay:"');
      parsed = { provider: 'replay', spec, path: rest };
      break;
    default:
      throw new InvalidModelSpecError(
        spec,
        colon < 0 ? 'it has no provider prefix' : `unknown provider ${JSON.stringify(prefix)}`,
      );
  }
  // The settings schema guards config files; a spec we accept must pass it too, so the two never drift.
  const shape = ModelSpecSchema.safeParse(spec);
  if (!shape.success) throw new InvalidModelSpecError(spec, shape.error.issues[0]?.message ?? 'bad shape');
  return parsed;
}

function parseBedrock(spec: string, modelId: string): BedrockModelSpec {
  if (modelId === '') throw new InvalidModelSpecError(spec, 'bedrock needs a model id after "bedrock:"');
  if (modelId.startsWith('arn:')) {
    const arn = BEDROCK_ARN.exec(modelId);
    if (!arn) {
      throw new InvalidModelSpecError(
        spec,
        'a Bedrock ARN looks like arn:aws:bedrock:<region>:<account>:inference-profile/<id> ' +
          'or arn:aws:bedrock:<region>::foundation-model/<id>',
      );
    }
    return { provider: 'bedrock', spec, modelId, region: arn[1] };
  }
  if (!/^[a-zA-Z0-9][a-zA-Z0-9._:/-]*$/.test(modelId)) {
    throw new InvalidModelSpecError(spec, `${JSON.stringify(modelId)} is not a Bedrock model id`);
  }
  return { provider: 'bedrock', spec, modelId };
}

function parseOpenAI(spec: string, rest: string): OpenAIModelSpec {
  // Model names may contain ':' and '/' (llama3.1:8b, meta-llama/Llama-3-8B) but not '@'.
  const at = rest.indexOf('@');
  if (at < 0) {
    throw new InvalidModelSpecError(spec, 'openai needs "<model>@<baseUrl>", the base URL is missing');
  }
  const model = rest.slice(0, at);
  const rawUrl = rest.slice(at + 1);
  if (model === '') throw new InvalidModelSpecError(spec, 'the model name before "@" is empty');
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new InvalidModelSpecError(spec, `${JSON.stringify(rawUrl)} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidModelSpecError(spec, 'the base URL must be http:// or https://');
  }
  if (url.search || url.hash) {
    throw new InvalidModelSpecError(spec, 'the base URL must not carry a query string or fragment');
  }
  return { provider: 'openai', spec, model, baseUrl: rawUrl.replace(/\/+$/, '') };
}

/** True for an OpenAI-compatible server on this machine, which costs nothing per token. */
export function isLocalBaseUrl(baseUrl: string): boolean {
  let host: string;
  try {
    host = new URL(baseUrl).hostname;
  } catch {
    return false;
  }
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    host === '[::1]' ||
    host === '0.0.0.0' ||
    host === 'host.docker.internal' ||
    /^127\.\d+\.\d+\.\d+$/.test(host)
  );
}
