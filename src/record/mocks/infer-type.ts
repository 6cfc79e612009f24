/**
 * TypeScript types inferred from recorded JSON values (docs/mocks.md). Merging two types: the
 * same primitive stays itself; arrays merge their element types; two objects that share at least
 * one key (or are both empty) become one object whose keys missing from either are optional;
 * anything else becomes a union (`string | null`, `{ id: number } | { error: string }`).
 */

/** A field of an object type. */
export interface FieldType {
  readonly type: JsonType;
  readonly optional: boolean;
}

/** An inferred type; a union never holds a union. */
export type JsonType =
  | { readonly kind: 'string' | 'number' | 'boolean' | 'null' }
  /** `element` is undefined while only empty arrays were seen (`unknown[]`). */
  | { readonly kind: 'array'; readonly element: JsonType | undefined }
  | { readonly kind: 'object'; readonly fields: ReadonlyMap<string, FieldType> }
  | { readonly kind: 'union'; readonly members: readonly JsonType[] };

/** The type of one parsed JSON value. */
export function typeOf(value: unknown): JsonType {
  if (value === null) return { kind: 'null' };
  if (Array.isArray(value)) {
    let element: JsonType | undefined;
    for (const item of value) element = element === undefined ? typeOf(item) : mergeTypes(element, typeOf(item));
    return { kind: 'array', element };
  }
  switch (typeof value) {
    case 'string':
      return { kind: 'string' };
    case 'number':
      return { kind: 'number' };
    case 'boolean':
      return { kind: 'boolean' };
    case 'object': {
      const fields = new Map<string, FieldType>();
      for (const [key, item] of Object.entries(value as Record<string, unknown>)) fields.set(key, { type: typeOf(item), optional: false });
      return { kind: 'object', fields };
    }
    default:
      throw new TypeError(`not a JSON value: ${typeof value}`);
  }
}

/** The type of values of either type (see the rules above). */
export function mergeTypes(a: JsonType, b: JsonType): JsonType {
  const members = [...membersOf(a)];
  for (const member of membersOf(b)) {
    const i = members.findIndex((existing) => mergeable(existing, member));
    if (i === -1) members.push(member);
    else members[i] = mergeSame(members[i] as JsonType, member);
  }
  return members.length === 1 ? (members[0] as JsonType) : { kind: 'union', members };
}

/** TypeScript source for `type`, objects on several lines indented by `indent`. */
export function renderType(type: JsonType, indent = ''): string {
  switch (type.kind) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'null':
      return type.kind;
    case 'array': {
      if (type.element === undefined) return 'unknown[]';
      const element = renderType(type.element, indent);
      return type.element.kind === 'union' ? `Array<${element}>` : `${element}[]`;
    }
    case 'object': {
      if (type.fields.size === 0) return 'Record<string, never>';
      const inner = `${indent}  `;
      const lines = [...type.fields].map(
        ([key, field]) => `${inner}${propertyName(key)}${field.optional ? '?' : ''}: ${renderType(field.type, inner)};`,
      );
      return `{\n${lines.join('\n')}\n${indent}}`;
    }
    case 'union':
      // null last: `string | null` reads better than `null | string`.
      return [...type.members]
        .sort((x, y) => Number(x.kind === 'null') - Number(y.kind === 'null'))
        .map((member) => renderType(member, indent))
        .join(' | ');
  }
}

function membersOf(type: JsonType): readonly JsonType[] {
  return type.kind === 'union' ? type.members : [type];
}

function mergeable(a: JsonType, b: JsonType): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind !== 'object' || b.kind !== 'object') return true;
  if (a.fields.size === 0 && b.fields.size === 0) return true;
  return [...a.fields.keys()].some((key) => b.fields.has(key));
}

/** Merges two non-union types that `mergeable` accepted. */
function mergeSame(a: JsonType, b: JsonType): JsonType {
  if (a.kind === 'array' && b.kind === 'array') {
    const element = a.element === undefined ? b.element : b.element === undefined ? a.element : mergeTypes(a.element, b.element);
    return { kind: 'array', element };
  }
  if (a.kind === 'object' && b.kind === 'object') {
    const fields = new Map<string, FieldType>();
    for (const [key, field] of a.fields) {
      const other = b.fields.get(key);
      fields.set(
        key,
        other === undefined
          ? { type: field.type, optional: true }
          : { type: mergeTypes(field.type, other.type), optional: field.optional || other.optional },
      );
    }
    for (const [key, field] of b.fields) if (!a.fields.has(key)) fields.set(key, { type: field.type, optional: true });
    return { kind: 'object', fields };
  }
  return a;
}

function propertyName(key: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? key : JSON.stringify(key);
}
