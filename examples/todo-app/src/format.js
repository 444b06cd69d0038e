// Renders todos as text lines, e.g. "[x] 2 Buy milk".

export function formatTodo(todo) {
  return `[${todo.done ? 'x' : ' '}] ${todo.id} ${todo.title}`;
}
