import { timingSafeEqual } from "node:crypto";
import net from "node:net";
import ssh2 from "ssh2";
import type { AuthContext, Connection, ParsedKey, ServerChannel } from "ssh2";
import { placeName, type Place } from "../exec/place.js";
import { runScript } from "../exec/runtime.js";
import type { HostState } from "../model/state.js";
import type { Sim } from "../world.js";

/**
 * One simulated host's sshd: a loopback TCP listener feeding an ssh2 Server. It accepts only the
 * simulator's client key for `root`, runs each exec request's command string through the shell
 * subset, and follows the host's power: the listener closes and every connection drops when the
 * host goes down, and it listens again on the same address and port when the host is back.
 */
export class HostServer {
  private readonly ssh: ssh2.Server;
  private readonly tcp: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly allowed: ParsedKey;
  private listening = false;
  private closed = false;
  address = "";
  port = 0;

  constructor(
    private readonly sim: Sim,
    private readonly host: HostState,
    hostPrivateKey: string,
    clientPublicKey: string,
  ) {
    const parsed = ssh2.utils.parseKey(clientPublicKey);
    if (parsed instanceof Error) throw parsed;
    this.allowed = parsed;
    this.ssh = new ssh2.Server(
      { hostKeys: [hostPrivateKey], ident: "OpenSSH_9.2p1 Debian-2+deb12u5" },
      (client, info) => this.onClient(client, info),
    );
    this.ssh.on("error", () => undefined);
    this.tcp = net.createServer((socket) => {
      if (this.closed || this.host.power === "down" || this.host.power === "booting") {
        socket.destroy();
        return;
      }
      // As sshd does (IPTOS_LOWDELAY, TCP_NODELAY for interactive sessions): no Nagle delay per reply.
      socket.setNoDelay(true);
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
      socket.on("error", () => undefined);
      this.ssh.injectSocket(socket);
    });
    this.tcp.on("error", () => undefined);
    sim.events.on("host-down", (name) => {
      if (name === host.name) this.goDown();
    });
    sim.events.on("host-up", (name) => {
      if (name === host.name) void this.comeUp();
    });
    sim.events.on("drop-connections", (name) => {
      if (name === host.name) this.dropAll();
    });
  }

  /** Binds `address:port`; when the address is not available here, falls back to 127.0.0.1. */
  async start(address: string, port: number): Promise<void> {
    try {
      await this.bind(address, port);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (address === "127.0.0.1" || (code !== "EADDRNOTAVAIL" && code !== "EINVAL")) throw e;
      await this.bind("127.0.0.1", port);
    }
    if (this.host.power !== "up") this.goDown();
  }

  private bind(address: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (e: Error): void => reject(e);
      this.tcp.once("error", onError);
      this.tcp.listen({ host: address, port, exclusive: true }, () => {
        this.tcp.off("error", onError);
        const a = this.tcp.address() as net.AddressInfo;
        this.address = a.address;
        this.port = a.port;
        this.listening = true;
        resolve();
      });
    });
  }

  private goDown(): void {
    if (this.listening) {
      this.tcp.close();
      this.listening = false;
    }
    this.dropAll();
  }

  private async comeUp(): Promise<void> {
    if (this.listening || this.closed) return;
    // The port was ours a moment ago; retry briefly in case the kernel has not released it yet.
    for (let attempt = 0; attempt < 20 && !this.closed && !this.listening; attempt++) {
      try {
        await this.bind(this.address, this.port);
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 25));
      }
    }
  }

  /** Tears down every connection at once, as a crashed network or a rebooting host does. */
  dropAll(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  async stop(): Promise<void> {
    this.closed = true;
    this.dropAll();
    if (this.listening) {
      this.listening = false;
      await new Promise<void>((r) => this.tcp.close(() => r()));
    }
  }

  private socketFor(info: { ip: string; port: number }): net.Socket | undefined {
    for (const s of this.sockets) if (s.remotePort === info.port && s.remoteAddress === info.ip) return s;
    return undefined;
  }

  private onClient(client: Connection, info: { ip: string; port: number }): void {
    const socket = this.socketFor(info);
    const closed = new AbortController();
    client.on("error", () => undefined);
    client.on("close", () => closed.abort(new Error("connection closed")));
    client.on("end", () => closed.abort(new Error("connection closed")));
    client.on("authentication", (ctx) => this.authenticate(ctx));
    client.on("ready", () => {
      client.on("session", (accept) => {
        const session = accept();
        const env: Record<string, string> = {};
        session.on("pty", (acc) => acc?.());
        session.on("env", (acc, _rej, e) => {
          // Debian's sshd_config: AcceptEnv LANG LC_*
          if (/^(LANG|LC_[A-Z]+)$/.test(e.key)) env[e.key] = e.val;
          acc?.();
        });
        session.on("shell", (_acc, rej) => rej?.());
        session.on("subsystem", (_acc, rej) => rej?.());
        session.on("exec", (acc, _rej, req) => {
          const channel = acc();
          void this.exec(channel, req.command, env, closed.signal, () => socket?.destroy());
        });
      });
    });
  }

  private authenticate(ctx: AuthContext): void {
    if (ctx.method !== "publickey" || ctx.username !== "root") {
      ctx.reject(["publickey"]);
      return;
    }
    const want = this.allowed.getPublicSSH();
    const same =
      ctx.key.algo === this.allowed.type &&
      ctx.key.data.length === want.length &&
      timingSafeEqual(ctx.key.data, want);
    if (!same) {
      ctx.reject(["publickey"]);
      return;
    }
    if (ctx.signature && ctx.blob && this.allowed.verify(ctx.blob, ctx.signature, ctx.hashAlgo) !== true) {
      ctx.reject(["publickey"]);
      return;
    }
    ctx.accept();
  }

  private async exec(
    channel: ServerChannel,
    command: string,
    env: Record<string, string>,
    connection: AbortSignal,
    drop: () => void,
  ): Promise<void> {
    const ac = new AbortController();
    const onConnClose = (): void => ac.abort(new Error("connection closed"));
    connection.addEventListener("abort", onConnClose, { once: true });
    channel.on("close", () => ac.abort(new Error("channel closed")));
    channel.on("error", () => undefined);
    const stdin = await readStdin(channel);
    let open = true;
    channel.on("close", () => (open = false));
    const write = (stream: { write(s: string): boolean }, text: string): void => {
      if (open && text.length > 0) stream.write(text);
    };
    const place: Place = { kind: "host", host: this.host };
    let code: number;
    try {
      code = await runScript(
        this.sim,
        place,
        command,
        { stdin, stdout: (t) => write(channel, t), stderr: (t) => write(channel.stderr, t) },
        ac.signal,
        { via: "ssh", dropConnection: drop },
        {},
        ["bash"],
        // sshd runs the command with root's login shell, which is bash on PVE and Debian.
        "bash",
      );
    } catch (e) {
      write(
        channel.stderr,
        `sh: simulator error on ${placeName(place)}: ${e instanceof Error ? e.message : String(e)}\n`,
      );
      code = 70;
    } finally {
      connection.removeEventListener("abort", onConnClose);
    }
    if (!open || ac.signal.aborted) return;
    channel.exit(code);
    channel.end();
  }
}

/**
 * Collects stdin until the client closes it or briefly stops sending: clients that pass input
 * write it and close stdin right after the exec request; the others leave it open and send nothing.
 * Under Node 24 the client's data and EOF arrive tens of milliseconds after the exec request, so the
 * pause that ends a silent stdin is 200 ms (clients that close stdin, as Refit's pool does, never wait).
 */
function readStdin(channel: ServerChannel): Promise<string> {
  return new Promise((resolve) => {
    let data = "";
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      channel.removeListener("data", onData);
      resolve(data);
    };
    const onData = (chunk: Buffer): void => {
      data += chunk.toString("utf8");
      timer.refresh();
    };
    const timer = setTimeout(finish, 200);
    channel.on("data", onData);
    channel.once("end", finish);
    channel.once("close", finish);
  });
}
