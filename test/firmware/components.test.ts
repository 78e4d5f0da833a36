// The ESP-IDF shell's managed dependencies (firmware/esp32/main/idf_component.yml) are
// pinned: RadioLib from the ESP Component Registry at an exact version, wasm3 through the
// local wrapper component whose manifest, CMake version check and README clone command
// all name the same release. No YAML library is a dependency of this project, so the
// manifests are read with a small strict parser (block mappings of plain or quoted
// scalars, comments; anything else fails the test).
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const ESP32 = path.join(ROOT, "firmware/esp32");

type Yaml = string | { [key: string]: Yaml };

/** Block mappings only: `key: value`, `key:` + deeper indentation, `#` comments, quoted or plain scalars. */
export function parseSimpleYaml(text: string): { [key: string]: Yaml } {
  const root: { [key: string]: Yaml } = {};
  const stack: { indent: number; map: { [key: string]: Yaml } }[] = [{ indent: -1, map: root }];
  let pendingKey: { parent: { [key: string]: Yaml }; key: string; indent: number } | null = null;
  text.split("\n").forEach((raw, i) => {
    const line = raw.replace(/\s+#.*$/, "").replace(/^\s*#.*$/, "").trimEnd();
    if (line.trim() === "") return;
    if (/\t/.test(line.match(/^\s*/)![0])) throw new Error(`line ${i + 1}: tab in indentation`);
    const indent = line.length - line.trimStart().length;
    const m = /^([A-Za-z0-9_./-]+):(?:\s+(.*))?$/.exec(line.trim());
    if (!m) throw new Error(`line ${i + 1}: not a "key: value" line: ${raw}`);
    if (pendingKey) {
      if (indent <= pendingKey.indent) throw new Error(`line ${i + 1}: "${pendingKey.key}:" has no value`);
      const child: { [key: string]: Yaml } = {};
      pendingKey.parent[pendingKey.key] = child;
      stack.push({ indent, map: child });
      pendingKey = null;
    }
    while (stack.length > 1 && indent < stack.at(-1)!.indent) stack.pop();
    const top = stack.at(-1)!;
    if (indent !== top.indent && !(top.indent === -1 && indent === 0)) throw new Error(`line ${i + 1}: bad indentation`);
    const [, key, value] = m;
    if (key in top.map) throw new Error(`line ${i + 1}: duplicate key ${key}`);
    if (value === undefined) { pendingKey = { parent: top.map, key, indent }; return; }
    let v = value.trim();
    const q = /^"([^"\\]*)"$/.exec(v) ?? /^'([^']*)'$/.exec(v);
    if (q) v = q[1];
    else if (/^[[{&*!|>"']/.test(v)) throw new Error(`line ${i + 1}: only plain or quoted scalars are supported: ${v}`);
    top.map[key] = v;
  });
  if (pendingKey) throw new Error(`"${(pendingKey as { key: string }).key}:" has no value`);
  return root;
}

const read = (p: string) => readFileSync(path.join(ESP32, p), "utf8");
const map = (y: Yaml | undefined): { [key: string]: Yaml } => {
  expect(typeof y).toBe("object");
  return y as { [key: string]: Yaml };
};
/** An exact version (no range operators): what the component manager resolves to one release. */
const EXACT = /^\d+\.\d+\.\d+$/;

describe("firmware/esp32 managed dependencies", () => {
  const main = parseSimpleYaml(read("main/idf_component.yml"));
  const deps = map(main.dependencies);

  it("the parser is strict", () => {
    expect(parseSimpleYaml("a:\n  b: \"1\"\n  c: x # note\nd: 'y'\n")).toEqual({ a: { b: "1", c: "x" }, d: "y" });
    expect(() => parseSimpleYaml("a: [1, 2]\n")).toThrow();
    expect(() => parseSimpleYaml("a:\n- 1\n")).toThrow();
    expect(() => parseSimpleYaml("a: 1\na: 2\n")).toThrow();
    expect(() => parseSimpleYaml("a:\n")).toThrow();
  });

  it("declares exactly idf, RadioLib and wasm3", () => {
    expect(Object.keys(deps).sort()).toEqual(["idf", "jgromes/radiolib", "wasm3"]);
    expect(deps.idf).toBe(">=5.1");
  });

  it("RadioLib: the registry component jgromes/radiolib at an exact version, the one the README names", () => {
    const r = deps["jgromes/radiolib"];
    const version = typeof r === "string" ? r : map(r).version;
    expect(typeof version).toBe("string");
    expect(version).toMatch(EXACT);
    expect(map(r).git).toBeUndefined();
    expect(read("README.md")).toContain(`\`jgromes/radiolib\` \`${version}\``);
  });

  it("wasm3: the local wrapper component, pinned to one release in its manifest, its CMake check and the README's clone", () => {
    const w = map(deps.wasm3);
    expect(w.path).toBe("../components/wasm3");
    const dir = path.resolve(ESP32, "main", w.path as string);
    expect(existsSync(path.join(dir, "CMakeLists.txt"))).toBe(true);
    const wrapper = parseSimpleYaml(readFileSync(path.join(dir, "idf_component.yml"), "utf8"));
    const version = wrapper.version as string;
    expect(version).toMatch(EXACT);
    expect(wrapper.repository).toBe("https://github.com/wasm3/wasm3.git");
    const cmake = readFileSync(path.join(dir, "CMakeLists.txt"), "utf8");
    expect(cmake).toContain(`set(WASM3_PINNED_VERSION "${version}")`);
    expect(cmake).toContain("FATAL_ERROR");
    // The README's clone command and the wrapper agree, and they are the only wasm3 fetch it tells you to run.
    const readme = read("README.md");
    const clones = readme.match(/git clone [^\n]*wasm3[^\n]*/g) ?? [];
    expect(clones).toEqual([
      `git clone --depth 1 --branch v${version} https://github.com/wasm3/wasm3 firmware/esp32/components/wasm3/wasm3`,
    ]);
  });

  it("every git dependency, if any, is pinned to a tag or a commit", () => {
    for (const [name, d] of Object.entries(deps)) {
      if (typeof d !== "object" || !("git" in d)) continue;
      expect(d.version, name).toMatch(/^(v?\d+\.\d+\.\d+|[0-9a-f]{40})$/);
    }
  });
});
