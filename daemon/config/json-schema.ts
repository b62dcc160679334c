import { ConfigSchema } from './schema.js';

type Node = { [key: string]: unknown };

/**
 * The config schema as a JSON Schema document for editors. TypeBox lists every key in `required`
 * (the loader fills defaults before it validates); for a person writing YAML, a key with a default
 * is optional, so it is dropped from `required` here.
 */
export function configJsonSchema(): string {
  const schema = { $schema: 'https://json-schema.org/draft/2020-12/schema', ...(JSON.parse(JSON.stringify(ConfigSchema)) as Node) };
  return JSON.stringify(relaxDefaults(schema), null, 2) + '\n';
}

function relaxDefaults(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(relaxDefaults);
  if (!node || typeof node !== 'object') return node;
  const out: Node = Object.fromEntries(Object.entries(node).map(([k, v]) => [k, relaxDefaults(v)]));
  const props = out.properties as Record<string, Node> | undefined;
  if (props && Array.isArray(out.required)) {
    const required = (out.required as string[]).filter((k) => !(props[k] && 'default' in props[k]));
    if (required.length > 0) out.required = required;
    else delete out.required;
  }
  return out;
}
