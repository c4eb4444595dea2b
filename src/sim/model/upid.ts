/**
 * Task ids. PVE: `UPID:<node>:<pid 8 hex>:<pstart 8 hex>:<starttime 8 hex>:<type>:<id>:<user>:`.
 * PBS: `UPID:<node>:<pid 8 hex>:<pstart 8 hex>:<task nr 8 hex>:<starttime 8 hex>:<type>:<id, ':' escaped \x3a>:<user>:`.
 */

const hex8 = (n: number): string => (n >>> 0).toString(16).toUpperCase().padStart(8, "0");

export function pveUpid(
  node: string,
  pid: number,
  pstart: number,
  starttime: number,
  type: string,
  id: string,
  user: string,
): string {
  return `UPID:${node}:${hex8(pid)}:${hex8(pstart)}:${hex8(starttime)}:${type}:${id}:${user}:`;
}

export function pbsUpid(
  node: string,
  pid: number,
  pstart: number,
  taskNr: number,
  starttime: number,
  type: string,
  id: string | undefined,
  user: string,
): string {
  const escaped = (id ?? "").replaceAll(":", "\\x3a").replaceAll("/", "-");
  return `UPID:${node}:${hex8(pid)}:${hex8(pstart)}:${hex8(taskNr)}:${hex8(starttime)}:${type}:${escaped}:${user}:`;
}
