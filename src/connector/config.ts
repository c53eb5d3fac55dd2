// connector.yaml: edge URL, tunnel token (or a file holding it), CA, connection count, ingress rules.
import { readConfigFileText } from '../shared/regular-file.js';
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { readSecretLine } from '../shared/secret-file.js';
import { AirlockError } from '../shared/errors.js';
import { formatIssues } from '../shared/config-errors.js';
import { checkIngressRules, type IngressRule } from './ingress.js';

const schema = z
  .strictObject({
    // One edge, or several (docs/scale.md): the connections are spread over them.
    edge: z.union([
      z.url({ protocol: /^https$/, error: 'must be the https:// URL of the edge' }),
      z
        .array(z.url({ protocol: /^https$/, error: 'must be the https:// URL of an edge' }))
        .min(1, 'needs at least one edge URL'),
    ]),
    token: z.string().min(1).optional(),
    tokenFile: z.string().min(1).optional(),
    ca: z.string().min(1).optional(),
    connections: z.number().int().min(1).max(16).optional(),
    ingress: z.array(z.strictObject({ hostname: z.string().min(1).optional(), service: z.string().min(1) })),
  })
  .refine((value) => value.token !== undefined || value.tokenFile !== undefined, {
    message: 'needs token or tokenFile',
    path: ['token'],
  });

export interface ConnectorConfig {
  /** Every edge to connect to, first one first. */
  edges: string[];
  token: string;
  caFile?: string;
  connections?: number;
  rules: IngressRule[];
}

export function loadConnectorConfig(file: string): ConnectorConfig {
  const text = readConfigFileText(file, 'connector config');
  const document = parseDocument(text, { uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new AirlockError(
      'CONFIG_INVALID',
      `${file}: YAML syntax error: ${document.errors[0]!.message.split('\n')[0]}`,
    );
  }
  const result = schema.safeParse(document.toJS() ?? {}, { reportInput: true });
  if (!result.success)
    throw new AirlockError(
      'CONFIG_INVALID',
      `${file} is not a valid connector config:\n${formatIssues(result.error.issues)}`,
    );
  const data = result.data;
  const rules: IngressRule[] = data.ingress.map((rule) => ({
    ...(rule.hostname ? { hostname: rule.hostname } : {}),
    service: rule.service,
  }));
  const problems = checkIngressRules(rules);
  if (problems.length > 0)
    throw new AirlockError(
      'CONFIG_INVALID',
      `${file} is not a valid connector config:\n${problems.map((p) => `  ${p}`).join('\n')}`,
    );
  const base = dirname(resolve(file));
  let token = data.token;
  if (token === undefined) {
    token = readSecretLine(resolve(base, data.tokenFile!), `${file}: tokenFile`);
  }
  return {
    edges: Array.isArray(data.edge) ? data.edge : [data.edge],
    token,
    ...(data.ca ? { caFile: resolve(base, data.ca) } : {}),
    ...(data.connections ? { connections: data.connections } : {}),
    rules,
  };
}
