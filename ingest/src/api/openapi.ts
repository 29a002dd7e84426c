/**
 * The OpenAPI 3.1 document served at GET /api/openapi.json, built from the route list in
 * contract/routes.ts and the zod schemas it names (zod 4's `z.toJSONSchema`, JSON Schema 2020-12,
 * which OpenAPI 3.1 uses as is). Schemas with an id (`.meta({ id })`) become components; every
 * `$ref` points into `#/components/schemas`.
 */
import { z } from 'zod';
import { ErrorResponseSchema } from '@parkops/contract/api.ts';
import { ROUTES, type RouteAnswer, type RouteDoc } from '@parkops/contract/routes.ts';
import { ROLES } from '@parkops/contract/roles.ts';

type Json = Record<string, unknown>;

export interface OpenApiDocument extends Json {
  openapi: '3.1.0';
  paths: Record<string, Record<string, Json>>;
  components: { schemas: Record<string, Json>; securitySchemes: Json };
}

const REF_PREFIX = '#/components/schemas/';

/** Converts one schema, moving its named sub-schemas into `components` and pointing the refs there. */
function converter(components: Record<string, Json>) {
  return (schema: z.ZodType, io: 'input' | 'output'): Json => {
    const out = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Json;
    const defs = (out.$defs ?? {}) as Record<string, Json>;
    delete out.$defs;
    delete out.$schema;
    const topId = z.globalRegistry.get(schema)?.id;
    const fixWith =
      (names: Map<string, string>) =>
      (v: unknown): unknown => {
        if (Array.isArray(v)) return v.map(fixWith(names));
        if (v && typeof v === 'object') {
          const o: Json = {};
          for (const [k, x] of Object.entries(v)) o[k] = k === '$ref' && typeof x === 'string' && x.startsWith('#/$defs/') ? REF_PREFIX + (names.get(x.slice(8)) ?? x.slice(8)) : fixWith(names)(x);
          return o;
        }
        return v;
      };
    // A named schema at the top is a component too: zod refers to it itself when it recurs; otherwise
    // the root is its body, moved into the components and referred to like every other.
    let result: Json = out;
    if (typeof topId === 'string' && !(topId in defs)) {
      defs[topId] = out;
      result = { $ref: `#/$defs/${topId}` };
    }
    // The same component may read differently for requests (input: defaults optional) and answers:
    // then the second one gets a suffixed name.
    const asIs = fixWith(new Map());
    const renamed = new Map<string, string>();
    for (const [name, body] of Object.entries(defs)) {
      const known = components[name];
      renamed.set(name, known === undefined || JSON.stringify(known) === JSON.stringify(asIs(body)) ? name : `${name}${io === 'input' ? 'Input' : 'Output'}`);
    }
    const fix = fixWith(renamed);
    for (const [name, body] of Object.entries(defs)) components[renamed.get(name)!] = fix(body) as Json;
    return fix(result) as Json;
  };
}

const openApiPath = (path: string): string => path.replace(/:(\w+)/g, '{$1}');

function accessText(access: RouteDoc['access']): string {
  if (access === 'none') return 'No credentials needed.';
  if (typeof access === 'string') return `Role: ${access} or above (${ROLES.slice(ROLES.indexOf(access)).join(', ')}).`;
  return `Roles: ${access.join(', ')} only.`;
}

let cached: OpenApiDocument | undefined;

/** The document (built once: the route list and schemas do not change while the process runs). */
export function openApiDocument(): OpenApiDocument {
  if (cached) return cached;
  const schemas: Record<string, Json> = {};
  const convert = converter(schemas);
  const error = convert(ErrorResponseSchema, 'output');
  const paths: OpenApiDocument['paths'] = {};

  const answer = (a: RouteAnswer): Json => {
    if (a.schema) return { description: a.description, content: { [a.type ?? 'application/json']: { schema: convert(a.schema, 'output') } } };
    if (a.type) return { description: a.description, content: { [a.type]: {} } };
    return { description: a.description };
  };

  for (const r of ROUTES) {
    const responses: Record<string, Json> = {};
    for (const [status, a] of Object.entries(r.responses)) responses[status] = answer(a);
    const errorAnswer = (description: string): Json => ({ description, content: { 'application/json': { schema: error } } });
    if ((r.query || r.body || r.params) && !responses['400']) responses['400'] = errorAnswer('bad input: the message names the field');
    if (r.access !== 'none') {
      responses['401'] ??= errorAnswer('no valid credentials');
      responses['403'] ??= errorAnswer('the role is too low (or, with a session cookie, a cross-site request)');
    }
    const parameters: Json[] = [];
    for (const name of r.path.match(/:(\w+)/g) ?? []) {
      const n = name.slice(1);
      parameters.push({ name: n, in: 'path', required: true, description: r.params?.[n], schema: { type: 'string' } });
    }
    if (r.query) {
      const shape = r.query.shape as Record<string, z.ZodType>;
      for (const [name, s] of Object.entries(shape)) {
        const js = convert(s, 'input');
        const description = typeof js.description === 'string' ? js.description : undefined;
        delete js.description;
        parameters.push({ name, in: 'query', required: !s.safeParse(undefined).success, ...(description ? { description } : {}), schema: js });
      }
    }
    const op: Json = {
      operationId: `${r.method}${r.path.replace(/^\/api/, '').replace(/[:/.]+(\w)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}` || r.method,
      tags: [r.tag],
      summary: r.summary,
      description: [r.description, accessText(r.access), r.extension ? 'A ParkOps extension beyond the base contract.' : undefined].filter(Boolean).join('\n\n'),
      'x-parkops-access': r.access,
      'x-parkops-extension': r.extension,
      security: r.access === 'none' ? [] : [{ session: [] }, { bearer: [] }],
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(r.body
        ? {
            requestBody: {
              required: true,
              ...(r.body.description ? { description: r.body.description } : {}),
              content: { [r.body.type ?? 'application/json']: r.body.schema ? { schema: convert(r.body.schema, 'input') } : {} },
            },
          }
        : {}),
      responses,
    };
    (paths[openApiPath(r.path)] ??= {})[r.method] = op;
  }

  cached = {
    openapi: '3.1.0',
    info: {
      title: 'ParkOps API',
      version: '0.1.0',
      description:
        'Park operations: parking, flood alarm, venue occupancy, official warnings and LoRaWAN bindings. JSON in and out; times are ISO 8601 UTC. Errors are `{"error": string}` (with a stable `code` where the dashboard translates it). docs/api.md in the repository describes the MQTT side too.',
    },
    servers: [{ url: '/', description: 'the ParkOps server (default http://localhost:3000)' }],
    tags: [...new Set(ROUTES.map((r) => r.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas,
      securitySchemes: {
        session: { type: 'apiKey', in: 'cookie', name: 'parkops_session', description: 'from POST /api/auth/login; state changes need a same-origin Origin header' },
        bearer: { type: 'http', scheme: 'bearer', description: 'an API token from POST /api/tokens' },
      },
    },
  };
  return cached;
}
