// An in-memory todo list. Every todo has a numeric id, a title and a done flag; callers always
// get copies, so nothing outside the list can change it behind its back.

export function createTodoList() {
  const todos = [];
  let nextId = 1;

  const find = (id) => {
    const todo = todos.find((t) => t.id === id);
    if (!todo) throw new Error(`no todo with id ${id}`);
    return todo;
  };

  return {
    add(title) {
      if (typeof title !== 'string' || title.trim() === '') throw new Error('a todo needs a title');
      const todo = { id: nextId++, title: title.trim(), done: false };
      todos.push(todo);
      return { ...todo };
    },

    list() {
      return todos.map((t) => ({ ...t }));
    },

    complete(id) {
      const todo = find(id);
      todo.done = true;
      return { ...todo };
    },
  };
}
