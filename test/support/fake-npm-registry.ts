// A loopback stand-in for the npm registry's two read endpoints the dependency detectors use:
// `POST /-/npm/v1/security/advisories/bulk` (body `{name: [versions]}`, answer `{name: [advisory]}`)
// and `GET /<name>` with the abbreviated metadata (`dist-tags`). It answers from recorded data,
// keeps what it was asked, and can be told to fail, so tests never touch the network.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedAdvisory {
  id: number;
  url: string;
  title: string;
  severity: 'info' | 'low' | 'moderate' | 'high' | 'critical';
  vulnerable_versions: string;
  cwe?: string[];
  cvss?: { score: number; vectorString: string | null };
}

export interface FakeNpmRegistryOptions {
  /** Advisories per package name, as the registry stores them (it answers those for every asked name). */
  advisories?: Record<string, RecordedAdvisory[]>;
  /** `dist-tags.latest` per package; a package not listed answers 404. */
  latest?: Record<string, string>;
  /** Every request answers this status with a plain-text body. */
  failWith?: number;
}

export interface FakeNpmRegistry {
  url: string;
  /** Bodies of the bulk advisory requests. */
  bulkRequests: Record<string, string[]>[];
  /** Accept headers of metadata requests, by package name. */
  metadataRequests: { name: string; accept: string | undefined }[];
  close(): Promise<void>;
}

async function bodyOf(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startFakeNpmRegistry(options: FakeNpmRegistryOptions = {}): Promise<FakeNpmRegistry> {
  const bulkRequests: Record<string, string[]>[] = [];
  const metadataRequests: { name: string; accept: string | undefined }[] = [];
  const server: Server = createServer((request, response) => {
    (async () => {
      const path = new URL(request.url ?? '/', 'http://registry.invalid').pathname;
      if (options.failWith) {
        response.writeHead(options.failWith, { 'content-type': 'text/plain' }).end('registry unavailable');
        return;
      }
      if (request.method === 'POST' && path === '/-/npm/v1/security/advisories/bulk') {
        const asked = JSON.parse(await bodyOf(request)) as Record<string, string[]>;
        bulkRequests.push(asked);
        // The real endpoint answers every advisory of each asked package; the client matches ranges.
        const answer = Object.fromEntries(Object.keys(asked).filter((name) => options.advisories?.[name]).map((name) => [name, options.advisories![name]]));
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
        return;
      }
      if (request.method === 'GET') {
        const name = decodeURIComponent(path.slice(1));
        metadataRequests.push({ name, accept: request.headers.accept });
        const latest = options.latest?.[name];
        if (!latest) {
          response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'Not found' }));
          return;
        }
        response
          .writeHead(200, { 'content-type': 'application/vnd.npm.install-v1+json' })
          .end(JSON.stringify({ name, modified: '2026-01-01T00:00:00.000Z', 'dist-tags': { latest }, versions: { [latest]: { name, version: latest } } }));
        return;
      }
      response.writeHead(405).end();
    })().catch((error: unknown) => {
      response.writeHead(500, { 'content-type': 'text/plain' }).end(`fake registry: ${String(error)}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    bulkRequests,
    metadataRequests,
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}
