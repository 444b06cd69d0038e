import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTodoList } from '../src/todos.js';

test('add gives each todo its own id and trims the title', () => {
  const todos = createTodoList();
  assert.deepEqual(todos.add('  Buy milk '), { id: 1, title: 'Buy milk', done: false });
  assert.equal(todos.add('Walk the dog').id, 2);
});

test('add refuses an empty title', () => {
  assert.throws(() => createTodoList().add('   '), /needs a title/);
});

test('list returns copies in the order added', () => {
  const todos = createTodoList();
  todos.add('a');
  todos.add('b');
  const listed = todos.list();
  listed[0].title = 'changed';
  assert.deepEqual(todos.list().map((t) => t.title), ['a', 'b']);
});

test('complete marks a todo done', () => {
  const todos = createTodoList();
  const { id } = todos.add('a');
  assert.equal(todos.complete(id).done, true);
  assert.equal(todos.list()[0].done, true);
});

test('complete refuses an unknown id', () => {
  assert.throws(() => createTodoList().complete(42), /no todo with id 42/);
});
