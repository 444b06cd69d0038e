// The repository host in a cell: the same adapters as locally (lib/ports/repository), reading
// their credentials from the function's secrets port. In its own module because it carries
// isomorphic-git and Octokit, which only functions that touch repositories should bundle.
import { createRepositoryHost } from '../repository/index';
import type { CellPortFactory } from './cell-ports';

/** The repositories port of a function that checks, prepares, publishes or comments on repositories. */
export const cellPort: CellPortFactory<'repositories'> = ({ ports, workspaceRoot }) =>
  createRepositoryHost({ secrets: ports.secrets, workspaceRoot });
