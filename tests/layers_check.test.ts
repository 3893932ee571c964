/**
 * The dependency check of `deno task check`: it must find a forbidden import
 * and a cycle in a tree made to have them, and none in Meter's own code.
 */
import { describe, expect, it } from "vitest";
import { fileURLToPath } from "node:url";
import { checkLayers } from "../scripts/check_layers.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

function tree(files: Record<string, string>): string {
  const root = Deno.makeTempDirSync({ prefix: "meter-layers-" });
  for (const [path, text] of Object.entries(files)) {
    Deno.mkdirSync(`${root}/${path.slice(0, path.lastIndexOf("/"))}`, { recursive: true });
    Deno.writeTextFileSync(`${root}/${path}`, text);
  }
  return root;
}

describe("the layers check", () => {
  it("finds nothing in Meter's own code", () => {
    expect(checkLayers(ROOT)).toEqual([]);
  });

  it("refuses an import up the layers, across agent and site, and past a public surface", () => {
    const root = tree({
      "lib/log.ts": 'import { rule } from "../model/rule.ts";\n',
      "model/rule.ts": "export const rule = 1;\n",
      "agent/recorder.ts": 'import { x } from "../site/reports/report.ts";\n',
      "site/reports/report.ts": "export const x = 1;\n",
      "site/mod.ts": 'export { x } from "./reports/report.ts";\n',
      "cli/report_command.ts": 'import { x } from "../site/reports/report.ts";\n' +
        'import { y } from "../site/mod.ts";\n',
    });
    expect(checkLayers(root)).toEqual([
      "agent/recorder.ts imports site/reports/report.ts: agent/ may not import site/",
      "cli/report_command.ts imports site/reports/report.ts: " +
      "site/ is entered through site/mod.ts or site/reports/mod.ts or site/query/query_process.ts",
      "lib/log.ts imports model/rule.ts: lib/ may not import model/",
    ]);
  });

  it("names an import cycle, type-only imports and dynamic ones included", () => {
    const root = tree({
      "site/a.ts": 'import type { B } from "./b.ts";\n',
      "site/b.ts": 'const c = await import("./c.ts");\n',
      "site/c.ts": 'export { a } from "./a.ts";\n',
      "site/d.ts": 'import { a } from "./a.ts";\n',
    });
    expect(checkLayers(root)).toEqual(["import cycle: site/a.ts <-> site/b.ts <-> site/c.ts"]);
  });

  it("names folders of a layer that import each other, though no file cycle does", () => {
    const root = tree({
      "site/reports/usage_report.ts": 'import { s } from "../summaries/summary_schema.ts";\n',
      "site/summaries/summary_schema.ts": "export const s = 1;\n",
      "site/summaries/summarizer.ts": 'import { r } from "../reports/report_rules.ts";\n',
      "site/reports/report_rules.ts": "export const r = 1;\n",
    });
    expect(checkLayers(root)).toEqual(["folder cycle: site/reports <-> site/summaries"]);
  });

  it("fails the task with exit 1 and a line per problem", async () => {
    const root = tree({
      "store/db.ts": 'import { s } from "../sync/mod.ts";\n',
      "sync/mod.ts": "",
    });
    const deno = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", `${ROOT}/scripts/check_layers.ts`, root],
      stdout: "piped",
      stderr: "piped",
    });
    const { code, stderr } = await deno.output();
    expect(code).toBe(1);
    expect(new TextDecoder().decode(stderr)).toContain(
      "store/db.ts imports sync/mod.ts: store/ may not import sync/",
    );
  });
});
