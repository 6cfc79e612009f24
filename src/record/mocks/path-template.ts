/**
 * Path templates for recorded requests (docs/mocks.md): which path segments become parameters.
 *
 * 1. A segment that looks like an id is a parameter: digits (`42`), a UUID, a hex string of 8 or
 *    more characters with a digit in it (`5f2b9c1e`, object ids), or a redacted value.
 * 2. A segment position also becomes a parameter when requests of the same method and origin
 *    differ only in that segment (every other segment equal, ids counted as equal) with at least
 *    two different values, and each value's responses have the same shape (`signature`: the
 *    content type and, for JSON, the inferred body type). `/users/alice` and `/users/bob` answered
 *    with the same JSON shape become `/users/:user`; `/api/users` and `/api/orders` answered with
 *    different shapes stay two endpoints. Repeated until nothing changes.
 *
 * A parameter is named after the segment before it, singular (`/users/:userId/posts/:postId`,
 * `/files/:file`); a template whose only parameter is an id calls it `:id`.
 */

/** One recorded request, as the templating needs it. */
export interface TemplateInput {
  /** Requests are compared only with others of the same group (method and origin). */
  readonly group: string;
  /** The path's segments, without the leading `/` (`/users/1` → `['users', '1']`). */
  readonly segments: readonly string[];
  /** The shape of its response (content type, inferred JSON type). */
  readonly signature: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for segments that are ids by their looks: digits, UUIDs, hex ids, redacted values. */
export function looksLikeId(segment: string): boolean {
  return (
    /^\d+$/.test(segment) || UUID.test(segment) || (/^[0-9a-f]{8,}$/i.test(segment) && /\d/.test(segment)) || segment.includes('<redacted:')
  );
}

type Kind = 'id' | 'name';

/** The template of each input's path, in input order (`/users/:id`). */
export function pathTemplates(inputs: readonly TemplateInput[]): string[] {
  const kinds: Array<Array<Kind | undefined>> = inputs.map((input) =>
    input.segments.map((segment) => (looksLikeId(segment) ? 'id' : undefined)),
  );
  while (mergeOnce(inputs, kinds)) {
    // Each pass turns at least one more segment into a parameter; it ends when none changes.
  }
  // Names are chosen per template, so that every input of one template gets the same names.
  const byShape = new Map<string, number[]>();
  inputs.forEach((input, i) => {
    const key = shapeKey(input, kinds[i] ?? [], -1);
    byShape.set(key, [...(byShape.get(key) ?? []), i]);
  });
  const templates: string[] = [];
  for (const members of byShape.values()) {
    const first = members[0] as number;
    const segments = inputs[first]?.segments ?? [];
    const positionKinds = segments.map((_, position) =>
      members.some((i) => kinds[i]?.[position] === 'id') ? 'id' : kinds[first]?.[position] === undefined ? undefined : 'name',
    );
    const names = paramNames(segments, positionKinds);
    const template = `/${segments.map((segment, position) => (names[position] === undefined ? segment : `:${names[position]}`)).join('/')}`;
    for (const i of members) templates[i] = template;
  }
  return templates;
}

/** One pass of rule 2; true when it made a segment a parameter. */
function mergeOnce(inputs: readonly TemplateInput[], kinds: Array<Array<Kind | undefined>>): boolean {
  const longest = Math.max(0, ...inputs.map((input) => input.segments.length));
  for (let position = 0; position < longest; position += 1) {
    const partitions = new Map<string, number[]>();
    inputs.forEach((input, i) => {
      if (position >= input.segments.length || kinds[i]?.[position] !== undefined) return;
      const key = shapeKey(input, kinds[i] ?? [], position);
      partitions.set(key, [...(partitions.get(key) ?? []), i]);
    });
    for (const members of partitions.values()) {
      const signatures = new Map<string, Set<string>>();
      for (const i of members) {
        const value = inputs[i]?.segments[position] ?? '';
        signatures.set(value, (signatures.get(value) ?? new Set()).add(inputs[i]?.signature ?? ''));
      }
      if (signatures.size < 2) continue;
      const shapes = new Set([...signatures.values()].map((set) => [...set].sort().join('\n')));
      if (shapes.size !== 1) continue;
      for (const i of members) (kinds[i] as Array<Kind | undefined>)[position] = 'name';
      return true;
    }
  }
  return false;
}

/** The group, length and segments with parameters blanked, leaving out `skip`. */
function shapeKey(input: TemplateInput, kinds: readonly (Kind | undefined)[], skip: number): string {
  const segments = input.segments.map((segment, i) => (i === skip ? '\0skip' : kinds[i] === undefined ? segment : '\0param'));
  return JSON.stringify([input.group, segments]);
}

/** Parameter names by position (undefined for literal segments). */
function paramNames(segments: readonly string[], kinds: readonly (Kind | undefined)[]): Array<string | undefined> {
  const params = kinds.filter((kind) => kind !== undefined);
  if (params.length === 1 && params[0] === 'id') return kinds.map((kind) => (kind === undefined ? undefined : 'id'));
  const used = new Set<string>();
  return kinds.map((kind, position) => {
    if (kind === undefined) return undefined;
    const before = position > 0 && kinds[position - 1] === undefined ? singular(identifier(segments[position - 1] ?? '')) : '';
    const base = before === '' ? (kind === 'id' ? 'id' : 'param') : kind === 'id' ? `${before}Id` : before;
    let name = base;
    for (let n = 2; used.has(name); n += 1) name = `${base}${n}`;
    used.add(name);
    return name;
  });
}

/** `user-profiles` → `userProfiles`; '' when nothing usable is left. */
export function identifier(text: string): string {
  const words = text.split(/[^A-Za-z0-9]+/).filter((word) => word !== '');
  const joined = words.map((word, i) => (i === 0 ? word.toLowerCase() : word[0]?.toUpperCase() + word.slice(1).toLowerCase())).join('');
  return /^[A-Za-z]/.test(joined) ? joined : '';
}

function singular(word: string): string {
  if (/ies$/.test(word) && word.length > 4) return `${word.slice(0, -3)}y`;
  if (/[^s]s$/.test(word) && word.length > 3) return word.slice(0, -1);
  return word;
}
