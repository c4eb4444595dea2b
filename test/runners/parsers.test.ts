/**
 * The parsers of the language and application runners: real shapes beyond the contract cases, and
 * output that cannot be read is a ParseError (never "nothing to update").
 */
import { describe, expect, it } from "vitest";
import { parseComposeImages } from "../../src/runners/dockerCompose/parsers.js";
import { ParseError } from "../../src/runners/errors.js";
import { parseBundleOutdated, parseGemList, parseGemOutdated } from "../../src/runners/gem/parsers.js";
import { parseGoVersionM } from "../../src/runners/go/parsers.js";
import { chartVersion, parseChartYaml, parseHelmList } from "../../src/runners/helm/parsers.js";
import { parseNpmLs, parseNpmOutdated } from "../../src/runners/npm/parsers.js";
import { normalizeName, parseInstallReport, parsePipList } from "../../src/runners/pip/parsers.js";
import { parsePipxList } from "../../src/runners/pipx/index.js";
import { parsePnpmOutdated } from "../../src/runners/pnpm/index.js";
import { yarn, parseYarnOutdated } from "../../src/runners/yarn/index.js";
import { parseSnapTable } from "../../src/runners/snap/index.js";
import { parseComposerPackages } from "../../src/runners/composer/index.js";
import { pip } from "../../src/runners/pip/index.js";
import { go } from "../../src/runners/go/index.js";
import { helm } from "../../src/runners/helm/index.js";
import { answer, DEBIAN, spec } from "./support.js";

describe("unreadable output is a ParseError naming the runner", () => {
  it.each([
    ["pip", () => parsePipList("WARNING: pip is being invoked by an old script wrapper\n", "pip list")],
    ["pip", () => parsePipList('{"name": "x"}', "pip list")],
    ["pip", () => parseInstallReport('{"version": "1"}', "pip install --report")],
    [
      "npm",
      () => parseNpmOutdated('{"error": {"code": "ENOENT", "summary": "no package.json"}}', "npm outdated"),
    ],
    ["npm", () => parseNpmLs("not json", "npm ls")],
    ["pipx", () => parsePipxList('{"pipx_spec_version": "0.1"}')],
    ["pnpm", () => parsePnpmOutdated("[]")],
    ["composer", () => parseComposerPackages('{"installed": [{"version": "1.0"}]}', "composer outdated")],
    ["snap", () => parseSnapTable("error: cannot communicate with server\n", "snap list")],
    ["helm", () => parseHelmList('[{"name": "web"}]')],
    ["helm", () => parseChartYaml("apiVersion: v2\n", "helm show chart x")],
    ["dockerCompose", () => parseComposeImages('[{"Repository": "redis"}]', "docker compose images")],
  ])("%s", (runner, parse) => {
    expect(parse).toThrow(ParseError);
    expect(parse).toThrow(new RegExp(`The ${runner} runner could not read`));
  });
});

describe("formats", () => {
  it("pip: empty output of a listing is an empty list; names compare after PEP 503 normalisation", () => {
    expect(parsePipList("", "pip list")).toEqual([]);
    expect(normalizeName("Flask_Login")).toBe("flask-login");
    expect(
      parseInstallReport(
        '{"version":"1","install":[{"metadata":{"name":"Flask","version":"3.1.0"},"requested":true}]}',
        "r",
      ),
    ).toEqual([{ name: "Flask", version: "3.1.0" }]);
  });

  it("pip with a requirements file: the dry-run report gives the targets, pip list the versions now", () => {
    const s = spec({ type: "pip", requirements: ["/srv/app/requirements.txt"] });
    const steps = pip.list(s, DEBIAN);
    expect(steps.map((x) => x.argv)).toEqual([
      [
        "python3",
        "-m",
        "pip",
        "install",
        "--dry-run",
        "--upgrade",
        "--upgrade-strategy=only-if-needed",
        "--quiet",
        "--report",
        "-",
        "-r",
        "/srv/app/requirements.txt",
      ],
      ["python3", "-m", "pip", "list", "--format=json"],
    ]);
    const results = answer(steps, {
      "report-0": '{"version":"1","install":[{"metadata":{"name":"Django","version":"5.1.4"}}]}',
      "before-python": '[{"name":"Django","version":"5.1.2"}]',
    });
    expect(pip.pending(s, DEBIAN, results)).toEqual([
      { package: "/srv/app/requirements.txt:django", from: "5.1.2", to: "5.1.4" },
    ]);
    expect(pip.apply(s, DEBIAN, [{ package: "/srv/app/requirements.txt:django" }])[0]!.argv).toEqual([
      "python3",
      "-m",
      "pip",
      "install",
      "--upgrade",
      "--upgrade-strategy=only-if-needed",
      "-r",
      "/srv/app/requirements.txt",
    ]);
  });

  it("npm: a workspace project lists a name as an array of rows; nothing outdated is {} or no output", () => {
    expect(parseNpmOutdated("", "npm outdated")).toEqual([]);
    expect(parseNpmOutdated("{}\n", "npm outdated")).toEqual([]);
    expect(
      parseNpmOutdated('{"a": [{"current": "1.0.0", "wanted": "1.0.1", "latest": "2.0.0"}]}', "x"),
    ).toEqual([{ name: "a", current: "1.0.0", wanted: "1.0.1", latest: "2.0.0", dev: false }]);
  });

  it("yarn: no table line means nothing outdated; global scope is refused with what to use instead", () => {
    expect(parseYarnOutdated('{"type":"info","data":"..."}\n')).toEqual([]);
    expect(() => yarn.list(spec({ type: "yarn", scope: "global" }), DEBIAN)).toThrow(
      /use an npm runner with scope global/,
    );
  });

  it("gem: bundler's parseable rows with and without a requirement, gem's listings", () => {
    expect(parseBundleOutdated("nokogiri (newest 1.16.8, installed 1.16.7)\n")).toEqual([
      { name: "nokogiri", from: "1.16.7", to: "1.16.8" },
    ]);
    expect(parseGemOutdated("rake (13.0.6 < 13.2.1)\nminitest (5.20.0 < 5.25.4)\n")).toEqual([
      { name: "rake", from: "13.0.6", to: "13.2.1" },
      { name: "minitest", from: "5.20.0", to: "5.25.4" },
    ]);
    expect(parseGemList("bundler (default: 2.5.11)\nrake (13.2.1, 13.0.6)\n")).toEqual(
      new Map([
        ["bundler", "2.5.11"],
        ["rake", "13.2.1"],
      ]),
    );
  });

  it("go: several binaries in one directory; a module that is not installed yet is new", () => {
    const text =
      "/root/go/bin/gopls: go1.22.2\n\tpath\tgolang.org/x/tools/gopls\n\tmod\tgolang.org/x/tools/gopls\tv0.15.3\th1:a=\n" +
      "/root/go/bin/staticcheck: go1.22.2\n\tpath\thonnef.co/go/tools/cmd/staticcheck\n\tmod\thonnef.co/go/tools\tv0.4.7\th1:b=\n";
    expect(parseGoVersionM(text).map((b) => [b.path, b.version])).toEqual([
      ["golang.org/x/tools/gopls", "v0.15.3"],
      ["honnef.co/go/tools/cmd/staticcheck", "v0.4.7"],
    ]);
    const s = spec({
      type: "go",
      modules: ["golang.org/x/tools/gopls", "mvdan.cc/gofumpt"],
      gobin: "/usr/local/bin",
    });
    const steps = go.list(s, DEBIAN);
    expect(steps[0]!.argv).toEqual(["go", "version", "-m", "/usr/local/bin"]);
    const results = answer(steps, {
      binaries: text,
      "latest-0": '{"Version":"v0.15.3"}',
      "latest-1": '{"Version":"v0.7.0"}',
    });
    expect(go.pending(s, DEBIAN, results)).toEqual([{ package: "mvdan.cc/gofumpt", to: "v0.7.0" }]);
    expect(go.apply(s, DEBIAN, [{ package: "mvdan.cc/gofumpt" }])[0]!.env).toMatchObject({
      GOBIN: "/usr/local/bin",
    });
  });

  it("helm: the chart version is what follows the chart's name; a missing release is installed", () => {
    expect(chartVersion("nginx-ingress-4.11.3", "nginx-ingress")).toBe("4.11.3");
    expect(chartVersion("cert-manager-v1.16.2", "cert-manager")).toBe("v1.16.2");
    const s = spec({
      type: "helm",
      kubeconfig: "/etc/rancher/k3s/k3s.yaml",
      releases: [
        { name: "cm", namespace: "cert-manager", chart: "jetstack/cert-manager", version: "v1.16.2" },
      ],
    });
    const steps = helm.list(s, DEBIAN);
    expect(steps.map((x) => x.argv)).toEqual([
      ["helm", "list", "--all-namespaces", "--output", "json", "--kubeconfig", "/etc/rancher/k3s/k3s.yaml"],
      ["helm", "show", "chart", "jetstack/cert-manager", "--version", "v1.16.2"],
    ]);
    const pending = helm.pending(
      s,
      DEBIAN,
      answer(steps, { releases: "[]", "chart-0": "name: cert-manager\nversion: v1.16.2\n" }),
    );
    expect(pending).toEqual([{ package: "cert-manager/cm", to: "v1.16.2" }]);
    expect(helm.apply(s, DEBIAN, pending)[0]!.argv.slice(0, 5)).toEqual([
      "helm",
      "upgrade",
      "--install",
      "cm",
      "jetstack/cert-manager",
    ]);
  });

  it("docker compose: the JSON array and the older one-object-per-line form", () => {
    const row = { ID: "sha256:abc", ContainerName: "s-web-1", Repository: "nginx", Tag: "1.27" };
    expect(parseComposeImages(JSON.stringify([row]), "x")).toEqual([
      { container: "s-web-1", image: "nginx:1.27", id: "sha256:abc" },
    ]);
    expect(
      parseComposeImages(
        `${JSON.stringify(row)}\n${JSON.stringify({ ...row, ContainerName: "s-db-1" })}\n`,
        "x",
      ),
    ).toHaveLength(2);
    expect(parseComposeImages("", "x")).toEqual([]);
  });
});
