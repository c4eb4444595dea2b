import type { Sim } from "../world.js";

export interface HealthEndpointInfo {
  vmid: number;
  name: string;
  kind: "http" | "tcp";
  address: string;
  port: number;
  url?: string;
}

/** Real HTTP/TCP servers on loopback for the containers' health endpoints. */
export class HealthServers {
  constructor(private readonly sim: Sim) {}
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  list(): HealthEndpointInfo[] {
    return [];
  }
}
