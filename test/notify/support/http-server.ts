import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** One request as the server saw it. */
export interface Recorded {
  method: string;
  /** Path and query. */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** What the server does with a request: answer, never answer, or drop the connection. */
export type Reply = { status: number; headers?: Record<string, string>; body?: string } | "hang" | "drop";

export interface TestServer {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  requests: Recorded[];
  /** Resolves once `n` requests have arrived (bodies read). */
  waitForRequests(n: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * A real HTTP server on loopback with a random port (or `port`: a receiver that comes up where
 * nothing listened before). `reply` decides per request (n counts from 1); it may return a promise
 * to answer later.
 */
export async function startServer(
  reply: (req: Recorded, n: number) => Reply | Promise<Reply> = () => ({ status: 200 }),
  options: { port?: number } = {},
): Promise<TestServer> {
  const requests: Recorded[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const recorded: Recorded = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      requests.push(recorded);
      for (const w of waiters.filter((w) => requests.length >= w.n)) w.resolve();
      void Promise.resolve(reply(recorded, requests.length)).then((r) => {
        if (r === "hang") return;
        if (r === "drop") {
          req.socket.destroy();
          return;
        }
        res.writeHead(r.status, r.headers);
        res.end(r.body ?? "");
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    waitForRequests: (n) =>
      requests.length >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve })),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A loopback port where nothing listens (bound once by the system, then released). */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}
