/**
 * The web console in a real browser: Debian's Chromium, headless, driven by
 * `playwright-core`, against a real site and a real agent metering this
 * machine. A person signs in (by keyboard), creates a rule through the form
 * (first seeing the API's validation message beside the field), runs the
 * program, and sees it on the program page: in the users and computers
 * tables and in the heat map's cell for the current hour on the computer's
 * own clock; the table's CSV download equals the API's CSV. A wrong token
 * gets a plain message. Each page is saved as a screenshot under
 * `tests/artifacts/console/`, at 1280 px and at a phone's width. All of it
 * runs under the console's Content-Security-Policy, and the browser reports
 * nothing it refused.
 */
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { copySleep, runProgram, uniqueName } from "./helpers/metered_program.ts";
import { type MeteredSite, startSiteWithAgent } from "./helpers/meter_process.ts";
import { api, makeToken, sessions } from "./helpers/site_api.ts";
import { CHROMIUM, hasTool } from "./helpers/system_tools.ts";
import { waitFor } from "./helpers/wait_for.ts";
import type { ClientOutput } from "../site/routes/clients_routes.ts";

const ARTIFACTS = new URL("./artifacts/console/", import.meta.url).pathname;
const FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

describe.skipIf(!hasTool(CHROMIUM))("web console in Chromium", () => {
  let m: MeteredSite;
  let browser: BrowserContext;
  let page: Page;
  let profile: string;
  /** What the browser said it refused under the console's Content-Security-Policy. */
  const refusedByPolicy: string[] = [];

  beforeAll(async () => {
    await Deno.mkdir(ARTIFACTS, { recursive: true });
    m = await startSiteWithAgent({ interval: 1, poll: 0.3, syncDelay: 0.3 });
    profile = await Deno.makeTempDir({ prefix: "meter-chromium-" });
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM.file,
      headless: true,
      args: FLAGS,
      acceptDownloads: true,
      viewport: { width: 1280, height: 900 },
    });
    page = browser.pages()[0] ?? await browser.newPage();
    page.on("console", (message) => {
      if (/Content Security Policy/i.test(message.text())) refusedByPolicy.push(message.text());
    });
  });

  afterAll(async () => {
    await browser?.close();
    await m?.stop();
    if (profile) await Deno.remove(profile, { recursive: true }).catch(() => {});
  });

  const url = (path: string) => new URL(path, m.site.url).href;
  const clientOf = (id: string) => clientOfSite(m.site.url, m.admin, id);
  const shot = (name: string) =>
    page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

  test("a wrong token gets a clear message, not a stack trace", async () => {
    await page.goto(url("/"));
    expect(new URL(page.url()).pathname).toBe("/sign-in");
    await page.fill("#token", "not-a-token");
    await page.click("main button[type=submit]");
    const problem = await page.textContent("#sign-in-problem");
    expect(problem).toBe("This token was not accepted: unknown token.");
    const body = await page.textContent("body");
    expect(body).not.toMatch(/Error:|at .*\.ts:\d+|stack/i);
    await shot("sign-in-refused");
  });

  test("sign in, create a rule, meter a program and see it on its page", async () => {
    // Signing in by keyboard: the field has focus, Enter submits.
    await page.goto(url("/rules"));
    // Said first, so a slow page fails here with a reason rather than timing out below.
    await expect.poll(() => page.evaluate("document.activeElement?.id")).toBe("token");
    await page.keyboard.type(m.admin);
    await page.keyboard.press("Enter");
    await page.waitForURL(url("/rules"));
    await shot("rules-empty");

    const name = uniqueName("mtest-console");
    const program = await copySleep(m.dir, name);
    await page.click("text=New rule");
    await page.fill("#field-fileName", name);
    await page.click("main button[type=submit]");
    expect(await page.textContent("#field-name-error")).toBe(
      "name is required: the product name shown in reports",
    );
    await shot("rule-form-invalid");
    await page.fill("#field-name", "Console test");
    await page.click("main button[type=submit]");
    await page.waitForURL(/\/rules\?done=/);
    expect(await page.textContent("[role=status]")).toMatch(/^Rule S01-\d+ created\.$/);
    const ruleId = /Rule (S01-\d+)/.exec((await page.textContent("[role=status]"))!)![1];
    await shot("rules");
    await page.click(`#rules >> text=${ruleId}`);
    expect(await page.inputValue("#field-fileName")).toBe(name);
    await shot("rule-edit");

    await waitFor(
      "the agent to receive the rule",
      () => m.agent.logged("rules loaded").some((e) => e.rules === 1),
    );
    const run = runProgram(program, 2);
    await run.ended;
    const [session] = await waitFor("the session at the site, ended", async () => {
      const rows = await sessions(m.site.url, m.admin, { rule: ruleId });
      return rows.length === 1 && rows[0].end ? rows : undefined;
    });
    expect((await api(m.site.url, m.admin, "POST", "/v1/summaries/run", {})).status).toBe(200);

    await page.goto(url(`/programs/${ruleId}`));
    expect(await page.textContent("h1")).toBe("Console test");
    expect(await page.textContent("#users tbody")).toContain(session.user);
    expect(await page.textContent("#computers tbody")).toContain(session.hostName);

    const client = await clientOf(session.clientId);
    const { weekday, hour } = localWeekdayHour(Date.parse(session.start), client.timeZone);
    const cell = page.locator(`#time-of-day rect[data-weekday="${weekday}"][data-hour="${hour}"]`);
    expect(Number(await cell.getAttribute("data-value"))).toBeGreaterThan(0);
    await shot("program");

    const month = session.start.slice(0, 7);
    const download = page.waitForEvent("download");
    await page.click("#users >> text=Download CSV");
    const file = await (await download).path();
    const fromConsole = await Deno.readTextFile(file);
    const fromApi = await (await api(
      m.site.url,
      m.admin,
      "GET",
      `/v1/reports/users-ran?rule=${ruleId}&month=${month}&format=csv`,
    )).text();
    expect(fromConsole).toBe(fromApi);
    expect(fromConsole.split("\r\n")[1]).toContain(session.user);

    // The month picker sits in the sentence: its style comes from a class, not an attribute.
    expect(
      await page.evaluate("getComputedStyle(document.querySelector('main form.inline')).display"),
    )
      .toBe("inline");

    await page.setViewportSize({ width: 390, height: 844 });
    await shot("program-phone");
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  test("overview, clients and a client's page show this machine", async () => {
    await page.goto(url("/"));
    expect(Number(await page.textContent("#clients-online .figure"))).toBe(1);
    expect(Number(await page.textContent("#sessions-today .figure"))).toBeGreaterThan(0);
    expect(await page.textContent("#most-used tbody")).toContain("Console test");
    await shot("overview");

    await page.goto(url("/clients"));
    await shot("clients");
    await page.click("#clients tbody a");
    expect(await page.textContent("#sessions tbody")).toContain("Console test");
    await shot("client");
  });

  test("a viewer sees the rules but may not change them", async () => {
    const viewer = await makeToken(m.site.db, "viewer");
    await page.click("text=Sign out");
    await page.fill("#token", viewer);
    await page.click("main button[type=submit]");
    await page.goto(url("/rules"));
    expect(await page.locator("text=New rule").count()).toBe(0);
    const response = await page.goto(url("/rules/new"));
    expect(response?.status()).toBe(403);
    expect(await page.textContent("main .error")).toContain("needs an admin token");
  });

  test("the pages above broke none of the console's Content-Security-Policy", async () => {
    const response = await page.goto(url("/rules"));
    expect(response?.headers()["content-security-policy"]).toContain("default-src 'none'");
    expect(refusedByPolicy).toEqual([]);
  });
});

async function clientOfSite(siteUrl: string, admin: string, clientId: string) {
  const { clients } = await (await api(siteUrl, admin, "GET", "/v1/clients")).json() as {
    clients: ClientOutput[];
  };
  return clients.find((c) => c.clientId === clientId)!;
}

/** Weekday (1 = Monday) and hour of an instant on a clock in `timeZone`. */
function localWeekdayHour(at: number, timeZone: string): { weekday: number; hour: number } {
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone,
    weekday: "short",
    hour: "numeric",
    hourCycle: "h23",
  }).formatToParts(new Date(at));
  const weekday = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].indexOf(
    parts.find((p) => p.type === "weekday")!.value,
  ) + 1;
  return { weekday, hour: Number(parts.find((p) => p.type === "hour")!.value) };
}
