/**
 * A small checker for request bodies against an OpenAPI 3 spec's component schemas: `$ref`,
 * `allOf`, `type` (object, array, string, integer, number, boolean), `nullable`, `enum`,
 * `required`, `items`, `additionalProperties`, integer formats, and no unknown properties
 * (unless the schema allows additional ones). Enough to hold a stand-in to the real API's shapes.
 */
import { readFileSync } from "node:fs";
import { parse } from "yaml";

export type Schema = {
  $ref?: string;
  allOf?: Schema[];
  type?: string;
  nullable?: boolean;
  enum?: unknown[];
  required?: string[];
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  items?: Schema;
  format?: string;
};

export type Schemas = Record<string, Schema>;

/** The component schemas of an OpenAPI YAML file. */
export function loadSchemas(specPath: string): Schemas {
  const spec = parse(readFileSync(specPath, "utf8")) as { components?: { schemas?: Schemas } };
  const schemas = spec.components?.schemas;
  if (!schemas) throw new Error(`${specPath} has no components.schemas`);
  return schemas;
}

function resolveRef(schema: Schema, schemas: Schemas): Schema {
  let current = schema;
  for (let depth = 0; current.$ref; depth++) {
    const name = /^#\/components\/schemas\/(.+)$/.exec(current.$ref)?.[1];
    const target = name ? schemas[name] : undefined;
    if (!target || depth > 20) throw new Error(`unresolvable $ref ${current.$ref}`);
    current = target;
  }
  if (!current.allOf) return current;
  const merged: Schema = { type: "object", properties: {}, required: [] };
  for (const part of [current, ...current.allOf.map((p) => resolveRef(p, schemas))]) {
    Object.assign(merged.properties!, part.properties ?? {});
    merged.required!.push(...(part.required ?? []));
    if (part.additionalProperties !== undefined) merged.additionalProperties = part.additionalProperties;
  }
  return merged;
}

const INT_RANGES: Record<string, [number, number]> = { int32: [-(2 ** 31), 2 ** 31 - 1], int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER] };

/** Every way `value` breaks the schema, as "path: problem" lines; empty when it conforms. */
export function checkValue(value: unknown, schema: Schema, schemas: Schemas, path = "$"): string[] {
  const s = resolveRef(schema, schemas);
  if (value === null) return s.nullable ? [] : [`${path}: null is not allowed`];
  const problems: string[] = [];
  if (s.enum && !s.enum.includes(value)) problems.push(`${path}: ${JSON.stringify(value)} is not one of ${s.enum.map((e) => JSON.stringify(e)).join(", ")}`);
  const type = s.type ?? (s.properties ? "object" : undefined);
  switch (type) {
    case "object": {
      if (typeof value !== "object" || Array.isArray(value)) return [...problems, `${path}: expected an object, got ${describe(value)}`];
      const record = value as Record<string, unknown>;
      for (const key of s.required ?? []) if (!(key in record)) problems.push(`${path}.${key}: required`);
      for (const [key, item] of Object.entries(record)) {
        const property = s.properties?.[key];
        if (property) problems.push(...checkValue(item, property, schemas, `${path}.${key}`));
        else if (typeof s.additionalProperties === "object") problems.push(...checkValue(item, s.additionalProperties, schemas, `${path}.${key}`));
        else if (s.additionalProperties !== true && s.properties) problems.push(`${path}.${key}: unknown property`);
      }
      return problems;
    }
    case "array":
      if (!Array.isArray(value)) return [...problems, `${path}: expected an array, got ${describe(value)}`];
      return [...problems, ...(s.items ? value.flatMap((item, i) => checkValue(item, s.items!, schemas, `${path}[${i}]`)) : [])];
    case "string":
      return typeof value === "string" ? problems : [...problems, `${path}: expected a string, got ${describe(value)}`];
    case "boolean":
      return typeof value === "boolean" ? problems : [...problems, `${path}: expected a boolean, got ${describe(value)}`];
    case "number":
      return typeof value === "number" && Number.isFinite(value) ? problems : [...problems, `${path}: expected a number, got ${describe(value)}`];
    case "integer": {
      if (typeof value !== "number" || !Number.isInteger(value)) return [...problems, `${path}: expected an integer, got ${describe(value)}`];
      const range = s.format ? INT_RANGES[s.format] : undefined;
      return range && (value < range[0] || value > range[1]) ? [...problems, `${path}: ${value} is out of ${s.format} range`] : problems;
    }
    default:
      return problems;
  }
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (value === null) return "null";
  return typeof value === "object" ? "an object" : `${typeof value} ${JSON.stringify(value)}`;
}

/** Checks `value` against the named component schema. */
export function checkAgainst(value: unknown, schemaName: string, schemas: Schemas): string[] {
  if (!schemas[schemaName]) throw new Error(`no schema ${schemaName}`);
  return checkValue(value, { $ref: `#/components/schemas/${schemaName}` }, schemas);
}
