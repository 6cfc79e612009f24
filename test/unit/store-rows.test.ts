import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BodyRowData, FlowRowData } from '../../src/record/store/flow-rows.js';
import { BODY_COLUMNS, FLOW_COLUMNS, flowValues, packRows } from '../../src/record/store/row-inserter.js';

// Every column's value is its own name, so a value out of place shows which one.
const flow = Object.fromEntries(FLOW_COLUMNS.map((column) => [column, column])) as unknown as FlowRowData;
const body = Object.fromEntries(BODY_COLUMNS.map((column) => [column, column])) as unknown as BodyRowData;

test('a flows row packs its values in the INSERT column order, every column once', () => {
  assert.deepEqual(flowValues(flow), [...FLOW_COLUMNS]);
  assert.equal(new Set(FLOW_COLUMNS).size, FLOW_COLUMNS.length);
});

test('a body row packs its values in the INSERT column order', () => {
  const packed = packRows({ flow, bodies: [body], messages: [], events: [] });
  assert.deepEqual(packed.bodies, [[...BODY_COLUMNS]]);
});

// Checked by the type checker (npx tsc): a column added to FlowRowData or BodyRowData and not to
// the INSERT makes these `false`, and the assignments fail to compile.
type Missing<Row, Columns extends readonly unknown[]> = Exclude<keyof Row, Columns[number]>;
const flowComplete: [Missing<FlowRowData, typeof FLOW_COLUMNS>] extends [never] ? true : false = true;
const bodyComplete: [Missing<BodyRowData, typeof BODY_COLUMNS>] extends [never] ? true : false = true;

test('the packed columns are every column of the row types', () => {
  assert.ok(flowComplete && bodyComplete);
});
