import assert from 'node:assert/strict';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { defaultCaDir } from '../../src/config/schema.js';

test('the default CA folder is $XDG_CONFIG_HOME/mitm when that is absolute, else ~/.mitm', () => {
  assert.equal(defaultCaDir({ XDG_CONFIG_HOME: '/tmp/xdg' }), '/tmp/xdg/mitm');
  // The XDG Base Directory spec: a relative value is invalid and must be ignored.
  assert.equal(defaultCaDir({ XDG_CONFIG_HOME: 'relative/xdg' }), join(homedir(), '.mitm'));
  assert.equal(defaultCaDir({ XDG_CONFIG_HOME: '' }), join(homedir(), '.mitm'));
  assert.equal(defaultCaDir({}), join(homedir(), '.mitm'));
});
