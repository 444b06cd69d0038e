// Small builders shared by the store tests.
import type { Store } from '../../lib/store/index';

export async function projectWithGoal(store: Store, title = 'add rate limiting') {
  const project = await store.projects.create({ name: 'demo', repo: { url: 'https://github.com/acme/demo.git' } });
  const goal = await store.goals.create({ projectId: project.id, title });
  return { project, goal };
}
