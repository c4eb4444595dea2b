import { stringify as yamlStringify } from "yaml";
import { registerClusterEndpoints } from "../api/cluster-endpoints.js";
import { registerNodeEndpoints } from "../api/node-endpoints.js";
import { ApiError, findEndpoint, type Params } from "../api/router.js";
import { isOnline } from "../model/cluster.js";
import type { OptType } from "./pve-args.js";
import { PveArgError, parsePveArgs } from "./pve-args.js";
import { onPve, registerCommands } from "./registry.js";
import { renderText } from "./text-table.js";
import type { CommandContext } from "./types.js";
import { pmxcfsDown } from "./pmxcfs.js";

registerClusterEndpoints();
registerNodeEndpoints();

const FORMAT_OPTIONS: Record<string, OptType> = {
  "output-format": "string",
  noborder: "bool",
  noheader: "bool",
  "human-readable": "bool",
  quiet: "bool",
};

/** `pvesh get <path> [params] [--output-format json|json-pretty|text|yaml]`. */
function pvesh(ctx: CommandContext): number {
  if (ctx.place.kind !== "host") return 127;
  if (pmxcfsDown(ctx)) return 255;
  const local = ctx.place.host;
  const [method, rawPath, ...rest] = ctx.argv.slice(1);
  const methods = ["get", "ls", "set", "create", "delete", "usage", "help"];
  if (method === undefined || !methods.includes(method)) {
    ctx.err(
      `ERROR: unknown command 'pvesh ${method ?? ""}'\nUSAGE: pvesh <COMMAND> [ARGS] [OPTIONS]\n\n       pvesh create <api_path> [OPTIONS] [FORMAT_OPTIONS]\n       pvesh delete <api_path> [OPTIONS] [FORMAT_OPTIONS]\n       pvesh get <api_path> [OPTIONS] [FORMAT_OPTIONS]\n       pvesh ls <api_path> [OPTIONS] [FORMAT_OPTIONS]\n       pvesh set <api_path> [OPTIONS] [FORMAT_OPTIONS]\n       pvesh usage <api_path> [OPTIONS]\n\n       pvesh help [<extra-args>] [OPTIONS]\n`,
    );
    return 255;
  }
  if (rawPath === undefined) {
    ctx.err(`400 not enough arguments\npvesh ${method} <api_path> [OPTIONS] [FORMAT_OPTIONS]\n`);
    return 255;
  }
  const path = `/${rawPath.replace(/^\/+/, "").replace(/\/+$/, "")}`;
  const found = findEndpoint(path);
  if (!found || method !== "get") {
    ctx.err(`No '${method}' handler defined for '${path.slice(1)}'\n`);
    return 255;
  }
  const usage = `pvesh get <api_path> [OPTIONS] [FORMAT_OPTIONS]`;
  let params: Params;
  try {
    const parsed = parsePveArgs(rest, { ...FORMAT_OPTIONS, ...found.endpoint.params }, [], usage);
    params = parsed.opts;
  } catch (e) {
    if (e instanceof PveArgError) {
      // An option the endpoint does not know is a schema error in PVE, not a getopt one.
      const m = /^Unknown option: (\S+)/.exec(e.message);
      ctx.err(
        m
          ? `400 Parameter verification failed.\n${m[1]}: property is not defined in schema and the schema does not allow additional properties\n${usage}\n`
          : e.message,
      );
      return 255;
    }
    throw e;
  }
  const format = String(params["output-format"] ?? "text");
  if (!["text", "json", "json-pretty", "yaml"].includes(format)) {
    ctx.err(
      `400 Parameter verification failed.\noutput-format: value '${format}' does not have a value in the enumeration 'text, json, json-pretty, yaml'\n${usage}\n`,
    );
    return 255;
  }
  const targetNode = found.endpoint.node?.(found.captures);
  if (targetNode !== undefined) {
    const cluster = ctx.sim.clusterOf(local);
    const target = ctx.sim.state.hosts[targetNode];
    if (!target || target.cluster !== local.cluster || !cluster?.nodes.includes(targetNode)) {
      ctx.err(
        `hostname lookup '${targetNode}' failed - failed to get address info for: ${targetNode}: Name or service not known\n`,
      );
      return 255;
    }
    if (!isOnline(target)) {
      // pveproxy cannot reach a node that is down; the API answers 595.
      ctx.err(
        `proxy handler failed: 595 Errors during connection establishment, proxy handshake: No route to host\n`,
      );
      return 255;
    }
  }
  let data: unknown;
  try {
    data = found.endpoint.get({ sim: ctx.sim, local, params, path: found.captures });
  } catch (e) {
    if (e instanceof ApiError) {
      ctx.err(`${e.status === 500 ? "" : `${e.status} `}${e.message}\n`);
      return 255;
    }
    throw e;
  }
  switch (format) {
    case "json":
      ctx.out(`${JSON.stringify(data)}\n`);
      break;
    case "json-pretty":
      ctx.out(`${JSON.stringify(data, null, 3)}\n`);
      break;
    case "yaml":
      ctx.out(`---\n${yamlStringify(data)}`);
      break;
    default:
      ctx.out(renderText(data, params.noborder === true, params.noheader === true));
  }
  return 0;
}

registerCommands([{ name: "pvesh", path: "/usr/bin/pvesh", available: onPve, handler: pvesh }]);
