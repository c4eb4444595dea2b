import http from "node:http";
import net from "node:net";
import { isOnline } from "../model/cluster.js";
import type { GuestState, HealthEndpointState } from "../model/state.js";
import type { Sim } from "../world.js";

export interface HealthEndpointInfo {
  vmid: number;
  name: string;
  kind: "http" | "tcp";
  address: string;
  port: number;
  /** For HTTP endpoints: the URL to probe. */
  url?: string;
}

type Server = http.Server | net.Server;

interface Endpoint {
  guest: GuestState;
  spec: HealthEndpointState;
  server: Server;
  sockets: Set<net.Socket>;
  listening: boolean;
  port: number;
}

const ADDRESS = "127.0.0.1";

/**
 * Real HTTP/TCP servers on loopback for the containers' health endpoints. An endpoint listens only
 * while its container runs on an online node (connection refused otherwise); HTTP answers 200 when
 * every service it needs is active and 503 naming the failed ones when not; a TCP endpoint stops
 * listening when one of its services is not active. The healthFailing fault makes it answer 500,
 * refuse connections, or accept and never answer.
 */
export class HealthServers {
  private readonly endpoints: Endpoint[] = [];
  private stopped = false;
  /** Reconciliations run one at a time so a listener is never opened twice. */
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly sim: Sim) {}

  async start(): Promise<void> {
    for (const g of Object.values(this.sim.state.guests)) {
      for (const spec of g.health) {
        const sockets = new Set<net.Socket>();
        const ep: Endpoint = {
          guest: g,
          spec,
          sockets,
          listening: false,
          port: 0,
          server: undefined as unknown as Server,
        };
        ep.server =
          spec.kind === "http"
            ? http.createServer((req, res) => this.answer(ep, req, res))
            : net.createServer((s) => this.accept(ep, s));
        ep.server.on("connection", (s: net.Socket) => {
          sockets.add(s);
          s.on("close", () => sockets.delete(s));
          s.on("error", () => undefined);
        });
        ep.server.on("error", () => undefined);
        // Bind once so the port is fixed for the whole run, then follow the container's state.
        await this.listen(ep);
        this.endpoints.push(ep);
      }
    }
    const reconcile = (): void => {
      this.chain = this.chain.then(() => this.reconcileAll());
    };
    this.sim.events.on("guest-changed", reconcile);
    this.sim.events.on("host-down", reconcile);
    this.sim.events.on("host-up", reconcile);
    reconcile();
    await this.chain;
  }

  private fault(ep: Endpoint): "http500" | "refused" | "timeout" | undefined {
    return this.sim.faults.find(
      "healthFailing",
      (f) => f.vmid === ep.guest.vmid && (f.endpoint === undefined || f.endpoint === ep.spec.name),
    )?.spec.mode;
  }

  private failedServices(ep: Endpoint): string[] {
    const services = ep.guest.contents?.services ?? {};
    return ep.spec.services.filter((s) => services[s]?.active !== "active");
  }

  private shouldListen(ep: Endpoint): boolean {
    const g = ep.guest;
    if (g.status !== "running" || !isOnline(this.sim.state.hosts[g.node]) || this.fault(ep) === "refused")
      return false;
    if (ep.spec.kind === "tcp" && this.failedServices(ep).length > 0) return false;
    return true;
  }

  private answer(ep: Endpoint, req: http.IncomingMessage, res: http.ServerResponse): void {
    const fault = this.fault(ep);
    if (fault === "timeout") return;
    const path = (req.url ?? "/").split("?")[0];
    const send = (code: number, body: unknown): void => {
      res.writeHead(code, { "content-type": "application/json" });
      res.end(`${JSON.stringify(body)}\n`);
    };
    if (fault === "http500") return send(500, { status: "error", error: "internal server error" });
    if (path !== ep.spec.path) return send(404, { status: "not found" });
    const failed = this.failedServices(ep);
    if (failed.length > 0) return send(503, { status: "down", failed });
    send(200, { status: "ok" });
  }

  private accept(ep: Endpoint, socket: net.Socket): void {
    if (this.fault(ep) === "timeout") return;
    socket.end("OK\n");
  }

  private listen(ep: Endpoint): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (e: Error): void => reject(e);
      ep.server.once("error", onError);
      ep.server.listen({ host: ADDRESS, port: ep.port, exclusive: true }, () => {
        ep.server.off("error", onError);
        ep.port = (ep.server.address() as net.AddressInfo).port;
        // A fixed port is the one inside the container; 0 means "whatever was free" there too.
        if (ep.spec.port === 0) ep.spec.port = ep.port;
        ep.spec.listenPort = ep.port;
        ep.listening = true;
        resolve();
      });
    });
  }

  private close(ep: Endpoint): void {
    if (!ep.listening) return;
    ep.listening = false;
    ep.server.close();
    for (const s of ep.sockets) s.destroy();
  }

  private async reconcileAll(): Promise<void> {
    for (const ep of this.endpoints) {
      if (this.stopped) return;
      const want = this.shouldListen(ep);
      if (want && !ep.listening) await this.listen(ep).catch(() => undefined);
      else if (!want && ep.listening) this.close(ep);
    }
  }

  list(): HealthEndpointInfo[] {
    return this.endpoints.map((ep) => ({
      vmid: ep.guest.vmid,
      name: ep.spec.name,
      kind: ep.spec.kind,
      address: ADDRESS,
      port: ep.port,
      ...(ep.spec.kind === "http" ? { url: `http://${ADDRESS}:${ep.port}${ep.spec.path}` } : {}),
    }));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.chain;
    await Promise.all(
      this.endpoints.map(
        (ep) =>
          new Promise<void>((resolve) => {
            for (const s of ep.sockets) s.destroy();
            if (!ep.listening) return resolve();
            ep.listening = false;
            ep.server.close(() => resolve());
          }),
      ),
    );
  }
}
