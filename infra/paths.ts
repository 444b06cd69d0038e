// Absolute paths of the folders infra reads at synth time, resolved from this file so that
// the CLI (cwd = repo root), vitest and scripts run from elsewhere all agree.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CUSTOMERS_DIR = path.join(REPO_ROOT, 'infra', 'customers');
export const FUNCTIONS_DIR = path.join(REPO_ROOT, 'functions');
export const STATEMACHINES_DIR = path.join(REPO_ROOT, 'statemachines');
export const LOCK_FILE = path.join(REPO_ROOT, 'package-lock.json');

/** A path as a person would type it from the repo root; absolute when it lies outside the repo. */
export function displayPath(file: string): string {
  const relative = path.relative(REPO_ROOT, file);
  return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
}
