import type { ClientChannel } from "ssh2";

/** The ssh2 internals this module relies on (ssh2 ~1.17, pinned in package.json). */
interface ChannelInternals {
  outgoing?: { id?: number; state?: string };
  _client?: { _protocol?: { signal?: (id: number, name: string) => void } };
}

/**
 * Sends an RFC 4254 §6.9 "signal" request. ssh2's `channel.signal()` silently does nothing once our
 * side has sent EOF, and we always send EOF right away (stdin is closed after it is written), so it
 * would never reach the process. The protocol allows the request until the channel is closed, so
 * this goes to ssh2's protocol layer directly. sshd (privilege separation on) delivers it with
 * killpg() to the session's process group.
 */
export function signalChannel(channel: ClientChannel, name: "KILL" | "TERM"): boolean {
  const internals = channel as unknown as ChannelInternals;
  const out = internals.outgoing;
  const send = internals._client?._protocol?.signal;
  if (!out || typeof out.id !== "number" || (out.state !== "open" && out.state !== "eof") || !send) {
    return false;
  }
  try {
    send.call(internals._client?._protocol, out.id, name);
    return true;
  } catch {
    return false;
  }
}
