import type { CommandContext } from "../commands/types.js";
import { normalizePath } from "../exec/fs.js";
import type { ContainerContents } from "../model/state.js";
import { registerEcosystem } from "./registry.js";

/**
 * `docker compose` v2 for the stacks in a container: `pull` fetches the registry's current digest,
 * `up -d` recreates services whose pulled image differs, `ps --format json` prints one JSON object
 * per line, `images`, `version`. The stack is chosen by `-f FILE`, `--project-directory DIR` or the
 * working directory.
 */

function stackFor(c: ContainerContents, file: string | undefined, dir: string): string | undefined {
  if (file)
    return Object.keys(c.compose).find(
      (f) => normalizePath(f) === normalizePath(file.startsWith("/") ? file : `${dir}/${file}`),
    );
  return Object.keys(c.compose).find(
    (f) => normalizePath(f.slice(0, f.lastIndexOf("/"))) === normalizePath(dir),
  );
}

function shortId(digest: string): string {
  return digest.replace(/^sha256:/, "").slice(0, 12);
}

async function docker(ctx: CommandContext): Promise<number> {
  const c = (ctx.place.kind === "container" ? ctx.place.guest.contents : undefined)!;
  const args = ctx.argv.slice(1);
  if (args[0] === "--version" || args[0] === "version") {
    ctx.out("Docker version 27.5.1, build 9f9e405\n");
    return 0;
  }
  if (args[0] === "image" && args[1] === "prune") {
    // docker/cli cli/command/image/prune.go: without -f it asks; dangling images are gone after `up -d`
    // in the model (a recreated service's old image is not kept), so nothing is reclaimed.
    if (!args.includes("-f") && !args.includes("--force")) {
      ctx.err("WARNING! This will remove all dangling images.\nAre you sure you want to continue? [y/N] \n");
      return 1;
    }
    ctx.out("Total reclaimed space: 0B\n");
    return 0;
  }
  if (args[0] !== "compose") {
    ctx.err(`docker: '${args[0] ?? ""}' is not a docker command.\nSee 'docker --help'\n`);
    return 1;
  }
  if (c.services.docker && c.services.docker.active !== "active") {
    ctx.err(
      "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n",
    );
    return 1;
  }
  let file: string | undefined;
  let dir = ctx.env.PWD ?? "/root";
  const rest: string[] = [];
  const cargs = args.slice(1);
  for (let i = 0; i < cargs.length; i++) {
    const a = cargs[i]!;
    if (a === "-f" || a === "--file") file = cargs[++i];
    else if (a.startsWith("--file=")) file = a.slice(7);
    else if (a === "--project-directory") dir = cargs[++i] ?? dir;
    else if (a.startsWith("--project-directory=")) dir = a.slice(20);
    else if (a === "-p" || a === "--project-name") i++;
    else rest.push(a);
  }
  const [sub, ...more] = rest;
  if (sub === "version") {
    ctx.out("Docker Compose version v2.32.4\n");
    return 0;
  }
  const stackFile = stackFor(c, file, dir);
  if (!stackFile) {
    ctx.err(
      file ? `open ${file}: no such file or directory\n` : "no configuration file provided: not found\n",
    );
    return 1;
  }
  const stack = c.compose[stackFile]!;
  const services = Object.entries(stack.services);
  switch (sub) {
    case "pull": {
      for (const [name, s] of services) {
        await ctx.sim.sleep(ctx.sim.timing.guestPackageSeconds, ctx.signal);
        if (s.registryDigest !== s.digest) s.pulledDigest = s.registryDigest;
        ctx.err(` ${name} Pulled \n`);
      }
      return 0;
    }
    case "up": {
      if (!more.includes("-d") && !more.includes("--detach")) {
        ctx.err("simulated docker compose runs only detached (up -d)\n");
        return 1;
      }
      for (const [name, s] of services) {
        const container = `${stack.project}-${name}-1`;
        if (s.pulledDigest && s.pulledDigest !== s.digest) {
          ctx.err(` Container ${container}  Recreate\n`);
          await ctx.sim.sleep(ctx.sim.timing.guestPackageSeconds, ctx.signal);
          s.digest = s.pulledDigest;
          ctx.err(
            ` Container ${container}  Recreated\n Container ${container}  Starting\n Container ${container}  Started\n`,
          );
        } else ctx.err(` Container ${container}  Running\n`);
        s.pulledDigest = undefined;
      }
      ctx.sim.events.emit("guest-changed", ctx.place.kind === "container" ? ctx.place.guest.vmid : 0);
      return 0;
    }
    case "ps": {
      const json = more.includes("--format") && more[more.indexOf("--format") + 1] === "json";
      const jsonEq = more.includes("--format=json");
      for (const [name, s] of services) {
        const row = {
          ID: shortId(s.digest),
          Name: `${stack.project}-${name}-1`,
          Image: s.image,
          Service: name,
          Project: stack.project,
          State: "running",
          Status: "Up 3 hours",
          Health: "",
          ExitCode: 0,
        };
        if (json || jsonEq) ctx.out(`${JSON.stringify(row)}\n`);
        else ctx.out(`${row.Name}   ${row.Image}   "${name}"   ${name}   3 hours ago   Up 3 hours\n`);
      }
      return 0;
    }
    case "images": {
      const json = more.includes("--format") && more[more.indexOf("--format") + 1] === "json";
      const rows = services.map(([name, s]) => {
        const [repo, tag] = s.image.split(":");
        return {
          ContainerName: `${stack.project}-${name}-1`,
          Repository: repo,
          Tag: tag,
          ID: shortId(s.digest),
          Size: 117_000_000,
        };
      });
      if (json) ctx.out(`${JSON.stringify(rows)}\n`);
      else
        for (const r of rows) ctx.out(`${r.ContainerName}   ${r.Repository}   ${r.Tag}   ${r.ID}   117MB\n`);
      return 0;
    }
    case "config":
      if (more.includes("--images")) ctx.out(services.map(([, s]) => `${s.image}\n`).join(""));
      else if (more.includes("--services")) ctx.out(services.map(([n]) => `${n}\n`).join(""));
      return 0;
    case "restart":
      return 0;
    default:
      ctx.err(`unknown docker command: "compose ${sub ?? ""}"\n`);
      return 1;
  }
}

registerEcosystem({
  name: "compose",
  present: (c) => Object.keys(c.compose).length > 0,
  commands: { docker: { path: "/usr/bin/docker", handler: docker } },
});
