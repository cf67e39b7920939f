import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { configSchema, type Config } from './config-schema.ts';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface ResolvedUpstreams {
  openai: { baseURL: string; apiKey: string | undefined };
  anthropic: { baseURL: string; apiKey: string | undefined };
  bedrock: {
    region: string;
    endpoint: string;
    credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined;
  };
}

export interface LoadedConfig {
  config: Config;
  upstreams: ResolvedUpstreams;
  /** Where the config came from, for messages. */
  source: string;
}

type Environment = Record<string, string | undefined>;

/** Replaces `${NAME}` with the environment variable, so secrets stay out of the file. */
function interpolate(value: unknown, environment: Environment, path: string): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_match, name: string) => {
      const found = environment[name];
      if (found === undefined) throw new ConfigError(`${path}: environment variable ${name} is not set`);
      return found;
    });
  }
  if (Array.isArray(value)) return value.map((item, index) => interpolate(item, environment, `${path}[${index}]`));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, interpolate(item, environment, path ? `${path}.${key}` : key)]),
    );
  }
  return value;
}

function describeIssues(issues: readonly z.core.$ZodIssue[], source: string): string {
  const lines = issues.map((issue) => {
    const where = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
    return `  ${where}: ${issue.message}`;
  });
  return `invalid config in ${source}:\n${lines.join('\n')}`;
}

export function parseConfig(raw: unknown, environment: Environment = process.env, source = 'config'): Config {
  const result = configSchema.safeParse(interpolate(raw ?? {}, environment, ''));
  if (!result.success) throw new ConfigError(describeIssues(result.error.issues, source));
  return result.data;
}

/** Provider endpoints and keys: config first, then the variables the official SDKs already read. */
export function resolveUpstreams(config: Config, environment: Environment = process.env): ResolvedUpstreams {
  const region = config.providers.bedrock?.region ?? environment.AWS_REGION ?? environment.AWS_DEFAULT_REGION ?? 'us-east-1';
  const accessKeyId = config.providers.bedrock?.accessKeyId ?? environment.AWS_ACCESS_KEY_ID;
  const secretAccessKey = config.providers.bedrock?.secretAccessKey ?? environment.AWS_SECRET_ACCESS_KEY;
  const sessionToken = config.providers.bedrock?.sessionToken ?? environment.AWS_SESSION_TOKEN;
  return {
    openai: {
      baseURL: stripSlash(config.providers.openai?.baseURL ?? environment.OPENAI_BASE_URL ?? 'https://api.openai.com/v1'),
      apiKey: config.providers.openai?.apiKey ?? environment.OPENAI_API_KEY,
    },
    anthropic: {
      baseURL: stripSlash(config.providers.anthropic?.baseURL ?? environment.ANTHROPIC_BASE_URL ?? 'https://api.anthropic.com'),
      apiKey: config.providers.anthropic?.apiKey ?? environment.ANTHROPIC_API_KEY,
    },
    bedrock: {
      region,
      endpoint: stripSlash(
        config.providers.bedrock?.endpoint ??
          environment.AWS_ENDPOINT_URL_BEDROCK_RUNTIME ??
          environment.AWS_ENDPOINT_URL ??
          `https://bedrock-runtime.${region}.amazonaws.com`,
      ),
      credentials:
        accessKeyId && secretAccessKey
          ? { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) }
          : undefined,
    },
  };
}

function stripSlash(url: string): string {
  return url.endsWith('/') ? url.slice(0, -1) : url;
}

/** Loads `path`, or ./costgate.yaml when it exists, or the defaults. */
export function loadConfig(path: string | undefined, environment: Environment = process.env): LoadedConfig {
  const file = path ?? (existsSync('costgate.yaml') ? 'costgate.yaml' : undefined);
  let raw: unknown = {};
  if (file) {
    if (!existsSync(file)) throw new ConfigError(`config file not found: ${file}`);
    try {
      raw = parseYaml(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new ConfigError(`cannot parse ${file}: ${(error as Error).message}`);
    }
  }
  const config = parseConfig(raw, environment, file ?? 'defaults');
  return { config, upstreams: resolveUpstreams(config, environment), source: file ?? 'defaults' };
}

/** True when at least one real provider can be reached with credentials. */
export function hasProviderKeys(environment: Environment = process.env): boolean {
  return Boolean(
    environment.OPENAI_API_KEY || environment.ANTHROPIC_API_KEY || (environment.AWS_ACCESS_KEY_ID && environment.AWS_SECRET_ACCESS_KEY),
  );
}
