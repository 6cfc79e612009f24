// The inspector API's actions (docs/ui-api.md): breakpoint rules, held flows, replay. Answers are
// returned, not written, so api-routes.ts sends them like its own; callers have already checked
// the token, Host and Origin.
import type { IncomingMessage } from 'node:http';
import * as z from 'zod/mini';
// The error class itself: `z.core.$ZodError` as a value would bundle all of zod's core index (its ~60 locales).
import { $ZodError } from 'zod/v4/core';
import { ENGLISH_ISSUES } from '../../config/load.js';
import { isMitmError } from '../../errors.js';
import { FilterError } from '../../record/filter/filter.js';
import type { MessageEdits } from '../api-types.js';
import { compileOrProblem } from './filter-problem.js';
import type { ActionAnswer } from './flow-actions.js';
import type { UiSource } from '../sources/source.js';

/** Largest JSON body an action accepts (an edited body travels in it). */
const MAX_JSON_BYTES = 16 * 2 ** 20;

const Pair = z.tuple([z.string(), z.string()]);
const Edits = z.strictObject({
  method: z.optional(z.string()),
  url: z.optional(z.string()),
  status: z.optional(z.int()),
  headers: z.optional(z.array(Pair)),
  body: z.optional(z.string()),
});
const Rule = z.strictObject({ filter: z.string(), on: z._default(z.enum(['request', 'response', 'both']), 'request') });
const Mock = z.extend(Edits, { status: z.int() });

/** `body` checked against `schema`, with zod's English messages (a 400 quotes the first). */
function parseBody<S extends z.core.$ZodType>(schema: S, body: unknown): z.output<S> {
  return z.parse(schema, body, { error: ENGLISH_ISSUES });
}

/** Answers the action routes under `api` (`/api/v1`); undefined when `path` is none of them. */
export async function actionRoute(req: IncomingMessage, path: string, api: string, source: UiSource): Promise<ActionAnswer | undefined> {
  const method = req.method ?? 'GET';
  const held = new RegExp(`^${api}/held/(\\d{1,15})/(resume|abort|answer)$`).exec(path);
  const replay = new RegExp(`^${api}/flows/(\\d{1,15})/replay$`).exec(path);
  const rule = new RegExp(`^${api}/breakpoints/(\\d{1,15})$`).exec(path);
  if (path !== `${api}/breakpoints` && !held && !replay && !rule) return undefined;
  const actions = source.actions;
  if (!actions) return error(409, 'ui_read_only', 'this inspector shows a store opened read-only: no breakpoints or replay');
  try {
    if (path === `${api}/breakpoints`) {
      if (method === 'GET') return { status: 200, body: actions.state() };
      if (method !== 'POST') return error(405, 'ui_method', 'use GET or POST');
      const input = parseBody(Rule, await readJson(req));
      const compiled = compileOrProblem(input.filter);
      if ('problem' in compiled) return { status: 400, body: { error: { code: 'filter_invalid', ...compiled.problem } } };
      return { status: 201, body: actions.addRule(input.filter, input.on) };
    }
    if (method !== (rule ? 'DELETE' : 'POST')) return error(405, 'ui_method', `use ${rule ? 'DELETE' : 'POST'}`);
    if (rule) {
      return actions.removeRule(Number(rule[1])) ? { status: 204 } : error(404, 'ui_not_found', `no breakpoint rule ${rule[1]}`);
    }
    if (replay) {
      const edits = withoutUndefined(parseBody(Edits, await readJson(req)));
      return { status: 200, body: await actions.replay(Number(replay[1]), edits) };
    }
    const [, id, verb] = held ?? [];
    if (verb === 'abort') actions.abort(Number(id));
    else if (verb === 'answer') actions.answer(Number(id), withoutUndefined(parseBody(Mock, await readJson(req))));
    else actions.resume(Number(id), withoutUndefined(parseBody(Edits, await readJson(req))));
    return { status: 204 };
  } catch (caught) {
    return failure(caught);
  }
}

/** A thrown error as an answer: bad input 400, a flow no longer held or kept 404/409. */
function failure(caught: unknown): ActionAnswer {
  if (caught instanceof $ZodError) {
    const issue = caught.issues[0];
    return error(400, 'ui_bad_request', `${issue?.path.map(String).join('.') || 'body'}: ${issue?.message ?? 'invalid'}`);
  }
  if (caught instanceof SyntaxError) return error(400, 'ui_bad_request', `the body is not JSON: ${caught.message}`);
  if (caught instanceof FilterError) return error(400, 'filter_invalid', caught.message);
  if (isMitmError(caught)) {
    const status = caught.code === 'breakpoint_not_held' ? 404 : caught.code === 'replay_failed' ? 409 : 400;
    return error(status, caught.code, caught.message);
  }
  throw caught;
}

function error(status: number, code: string, message: string): ActionAnswer {
  return { status, body: { error: { code, message } } };
}

/** Zod's output with its absent fields dropped (exactOptionalPropertyTypes). */
function withoutUndefined<T extends object>(value: T): MessageEdits & T {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as MessageEdits & T;
}

/** The request body as JSON, up to MAX_JSON_BYTES; an empty body is `{}`. */
async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_JSON_BYTES) throw new SyntaxError(`larger than ${MAX_JSON_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  return text.trim() === '' ? {} : (JSON.parse(text) as unknown);
}
