import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatTodo } from '../src/format.js';

test('formatTodo shows done and open todos', () => {
  assert.equal(formatTodo({ id: 1, title: 'Buy milk', done: false }), '[ ] 1 Buy milk');
  assert.equal(formatTodo({ id: 2, title: 'Walk the dog', done: true }), '[x] 2 Walk the dog');
});
