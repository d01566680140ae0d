import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import type { Lab } from '../lab.ts';
import { createLabApp } from './lab-app.ts';

/** A running lab service. */
export interface LabServer {
  /** Base URL for {@link createHttpClients}, e.g. `http://127.0.0.1:4010`. */
  readonly url: string;
  readonly server: ServerType;
  /** Stops accepting connections and waits for open ones to end. */
  close(): Promise<void>;
}

/**
 * Serves {@link createLabApp} with `@hono/node-server`.
 *
 * @remarks Port 0 (the default) picks a free port; read it from `url`.
 * Closing the server leaves the lab as it is; `lab.close()` is the caller's.
 *
 * @example
 * ```ts
 * const lab = createLab();
 * const { url, close } = await startLabServer(lab, { port: 4010 });
 * const clients = createHttpClients(url);
 * ```
 */
export function startLabServer(lab: Lab, options: { port?: number; hostname?: string } = {}): Promise<LabServer> {
  const hostname = options.hostname ?? '127.0.0.1';
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: createLabApp(lab).fetch, port: options.port ?? 0, hostname }, (info: AddressInfo) => {
      server.off('error', reject);
      const host = info.family === 'IPv6' ? `[${info.address}]` : info.address;
      resolve({
        url: `http://${host}:${info.port}`,
        server,
        close: () => new Promise<void>((done, fail) => server.close((error) => (error ? fail(error) : done()))),
      });
    });
    server.once('error', reject);
  });
}
