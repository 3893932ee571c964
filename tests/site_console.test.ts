/**
 * The web console over plain HTTP, beside the browser test: the session
 * cookie's flags, sign-in redirects, a revoked token signing the person out,
 * the rule forms (validation, edit, disable, delete after a confirmation
 * page), a form posted from another origin refused, viewers kept to
 * reading, CSV downloads equal to the API's, and the API's own paths left
 * exactly as they were (JSON, bearer tokens, JSON 404s).
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type SiteHandle, startSite } from "./helpers/meter_process.ts";
import { tempDir } from "./helpers/metered_program.ts";
import { api, makeToken } from "./helpers/site_api.ts";

describe("web console over HTTP", () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let site: SiteHandle;
  let admin: string;
  let adminCookie: string;

  beforeAll(async () => {
    temp = await tempDir();
    site = await startSite(temp.dir);
    admin = await makeToken(site.db, "admin");
    adminCookie = await signIn(admin);
  });

  afterAll(async () => {
    await site?.process.stop();
    await temp?.remove();
  });

  /** A request as a browser on the site's own pages sends it. */
  function browse(path: string, cookie?: string, form?: Record<string, string>) {
    const headers: Record<string, string> = { origin: new URL(site.url).origin };
    if (cookie) headers.cookie = cookie;
    if (form) headers["content-type"] = "application/x-www-form-urlencoded";
    return fetch(new URL(path, site.url), {
      method: form ? "POST" : "GET",
      headers,
      body: form ? new URLSearchParams(form) : undefined,
      redirect: "manual",
    });
  }

  async function signIn(token: string): Promise<string> {
    const response = await browse("/sign-in", undefined, { token, next: "/rules" });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/rules");
    const cookie = response.headers.get("set-cookie")!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    return cookie.split(";")[0];
  }

  /** The `next` the sign-in page puts in its form. */
  async function nextOnSignInPage(query: string): Promise<string> {
    const page = await (await browse(`/sign-in?${query}`)).text();
    const value = /name="next" value="([^"]*)"/.exec(page)![1];
    return value.replaceAll("&amp;", "&");
  }

  /** Where signing in with `next` goes. */
  async function afterSignIn(next: string): Promise<string | null> {
    const response = await browse("/sign-in", undefined, { token: admin, next });
    expect(response.status).toBe(303);
    return response.headers.get("location");
  }

  // `next` as the site receives it, once the query or form is decoded.
  const OFF_SITE = [
    "//evil.example",
    "/\\evil.example",
    "/%5Cevil.example",
    "/%5C%5Cevil.example",
    "%2F%2Fevil.example",
    "/%2F/evil.example",
    "/%09/evil.example",
    "/%0A/evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\\/evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "%5C%5Cevil.example",
    "https://evil.example",
    "javascript:alert(document.domain)",
    "",
  ];

  test.each(OFF_SITE)(
    "sign-in with next=%j goes to the overview, not off the site",
    async (next) => {
      expect(await nextOnSignInPage(`next=${encodeURIComponent(next)}`)).toBe("/");
      expect(await afterSignIn(next)).toBe("/");
    },
  );

  test("the issue's own /sign-in?next=/%5Cevil.example goes to the overview", async () => {
    expect(await nextOnSignInPage("next=/%5Cevil.example")).toBe("/");
  });

  test("a deep path with a query string survives sign-in", async () => {
    const deep = "/programs/S01-1?month=2026-11&sort=users";
    expect(await nextOnSignInPage(`next=${encodeURIComponent(deep)}`)).toBe(deep);
    expect(await afterSignIn(deep)).toBe(deep);
  });

  /** Posts `size` bytes of form to `path`, in one piece with its length or streamed without. */
  function postLargeForm(path: string, size: number, streamed: boolean, cookie?: string) {
    const form = new TextEncoder().encode(`name=Huge&fileName=huge&comment=${"x".repeat(size)}`);
    const body = streamed
      ? new ReadableStream({
        start(controller) {
          for (let i = 0; i < form.length; i += 16_384) {
            controller.enqueue(form.slice(i, i + 16_384));
          }
          controller.close();
        },
      })
      : form;
    return fetch(new URL(path, site.url), {
      method: "POST",
      headers: {
        origin: new URL(site.url).origin,
        "content-type": "application/x-www-form-urlencoded",
        ...(cookie ? { cookie } : {}),
      },
      body,
      redirect: "manual",
    });
  }

  test.each([false, true])(
    "a rule form over 64 KiB (streamed: %s) is a 413 page and creates nothing",
    async (streamed) => {
      const before = await (await api(site.url, admin, "GET", "/v1/rules")).json();
      const response = await postLargeForm("/rules", 70_000, streamed, adminCookie);
      expect(response.status).toBe(413);
      expect(response.headers.get("content-type")).toMatch(/text\/html/);
      expect(await response.text()).toContain(
        "the form is larger than this site accepts (65536 bytes)",
      );
      expect(await (await api(site.url, admin, "GET", "/v1/rules")).json()).toEqual(before);
    },
  );

  test.each([false, true])(
    "a sign-in form over 64 KiB (streamed: %s) is a 413 page and signs nobody in",
    async (streamed) => {
      const response = await postLargeForm("/sign-in", 70_000, streamed);
      expect(response.status).toBe(413);
      expect(response.headers.get("set-cookie")).toBeNull();
      expect(await response.text()).toContain("larger than this site accepts");
    },
  );

  /** The headers every console answer must carry, page or not, signed in or not. */
  function expectSecurityHeaders(response: Response, what: string) {
    const csp = response.headers.get("content-security-policy") ?? "";
    expect(response.headers.get("x-frame-options"), what).toBe("DENY");
    expect(response.headers.get("x-content-type-options"), what).toBe("nosniff");
    expect(csp, what).toContain("default-src 'none'");
    expect(csp, what).toContain("frame-ancestors 'none'");
    expect(csp, what).toContain("style-src 'self'");
    expect(csp, what).not.toContain("unsafe-inline");
  }

  test("every console page, file and answer carries the security headers", async () => {
    const rule = await (await api(site.url, admin, "POST", "/v1/rules", {
      name: "Headers",
      fileName: "headers",
    })).json();
    try {
      const month = new Date().toISOString().slice(0, 7);
      const signedIn = [
        "/",
        `/programs/${rule.id}`,
        "/programs/S01-999",
        `/reports/total-usage.csv?month=${month}`,
        "/rules",
        "/rules.csv",
        "/rules/new",
        `/rules/${rule.id}`,
        `/rules/${rule.id}/delete`,
        "/clients",
        "/clients.csv",
        "/clients/nosuchclient",
        "/clients/nosuchclient/sessions.csv",
      ];
      for (const path of signedIn) {
        const response = await browse(path, adminCookie);
        expect(response.status, path).toBeLessThan(500);
        expectSecurityHeaders(response, path);
        await response.body?.cancel();
      }
      const anyone: [string, Response][] = [
        ["sign-in page", await browse("/sign-in?next=%2Frules")],
        ["refused sign-in", await browse("/sign-in", undefined, { token: "wrong", next: "/" })],
        ["sign-in", await browse("/sign-in", undefined, { token: admin, next: "/" })],
        ["sign-out", await browse("/sign-out", adminCookie, {})],
        ["stylesheet", await browse("/console.css")],
        ["page without a session", await browse("/rules")],
        [
          "form from another origin",
          await fetch(new URL("/sign-in", site.url), {
            method: "POST",
            headers: { origin: "https://evil.example" },
            redirect: "manual",
          }),
        ],
      ];
      for (const [what, response] of anyone) {
        expectSecurityHeaders(response, what);
        await response.body?.cancel();
      }
    } finally {
      await api(site.url, admin, "DELETE", `/v1/rules/${rule.id}`);
    }
  });

  test("the console's headers stay off the API", async () => {
    for (const path of ["/v1/health", "/v1/rules", "/openapi.json"]) {
      const response = await api(site.url, admin, "GET", path);
      expect(response.headers.get("content-security-policy"), path).toBeNull();
      await response.body?.cancel();
    }
  });

  test("a page without a session goes to sign-in and comes back after", async () => {
    const response = await browse("/programs/S01-1?month=2026-11");
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe(
      `/sign-in?next=${encodeURIComponent("/programs/S01-1?month=2026-11")}`,
    );
  });

  test("the API's paths are untouched: bearer tokens, JSON and JSON 404s", async () => {
    const health = await fetch(new URL("/v1/health", site.url));
    expect(health.headers.get("content-type")).toMatch(/json/);
    const unknown = await fetch(new URL("/v1/nothing-here", site.url));
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error.code).toBe("not_found");
    const rules = await fetch(new URL("/v1/rules", site.url), { headers: { cookie: adminCookie } });
    expect(rules.status).toBe(401); // the console's cookie is not an API credential
  });

  test("rules are created, validated, edited, disabled and deleted through the forms", async () => {
    const invalid = await browse("/rules", adminCookie, { name: "", fileName: "a/b", version: "" });
    expect(invalid.status).toBe(400);
    const page = await invalid.text();
    expect(page).toContain("name is required: the product name shown in reports");
    expect(page).toContain("a file name has no &#39;/&#39;");

    const created = await browse("/rules", adminCookie, {
      name: "Editor",
      fileName: "editor",
      version: "",
      enabled: "on",
    });
    expect(created.status).toBe(303);
    const { rules: [rule] } = await (await api(site.url, admin, "GET", "/v1/rules")).json();
    expect(rule).toMatchObject({ name: "Editor", fileName: "editor", version: "*", enabled: true });

    const edited = await browse(`/rules/${rule.id}`, adminCookie, {
      name: "Editor Pro",
      fileName: "editor",
      originalFileName: "editor-bin",
      version: "2.*",
      enabled: "on",
    });
    expect(edited.status).toBe(303);
    const disabled = await browse(`/rules/${rule.id}/enabled`, adminCookie, { enabled: "off" });
    expect(disabled.status).toBe(303);
    const after = await (await api(site.url, admin, "GET", `/v1/rules/${rule.id}`)).json();
    expect(after).toMatchObject({
      name: "Editor Pro",
      originalFileName: "editor-bin",
      version: "2.*",
      enabled: false,
    });

    const confirm = await browse(`/rules/${rule.id}/delete`, adminCookie);
    expect(await confirm.text()).toContain(`Delete ${rule.id}?`);
    expect((await api(site.url, admin, "GET", `/v1/rules/${rule.id}`)).status).toBe(200);
    const deleted = await browse(`/rules/${rule.id}/delete`, adminCookie, {});
    expect(deleted.status).toBe(303);
    expect((await api(site.url, admin, "GET", `/v1/rules/${rule.id}`)).status).toBe(404);
  });

  test("a form posted from another origin is refused and changes nothing", async () => {
    const response = await fetch(new URL("/rules", site.url), {
      method: "POST",
      headers: {
        cookie: adminCookie,
        origin: "https://evil.example",
        "content-type": "application/x-www-form-urlencoded",
      },
      body: new URLSearchParams({ name: "Forged", fileName: "forged" }),
      redirect: "manual",
    });
    expect(response.status).toBe(403);
    expect(await response.text()).toContain("a form from https://evil.example may not change");
    const { rules } = await (await api(site.url, admin, "GET", "/v1/rules")).json();
    expect(rules.map((r: { name: string }) => r.name)).not.toContain("Forged");
  });

  test("a viewer reads but may not change rules; the refusal is audited", async () => {
    const viewer = await signIn(await makeToken(site.db, "viewer"));
    expect((await browse("/rules", viewer)).status).toBe(200);
    const refused = await browse("/rules", viewer, { name: "Nope", fileName: "nope" });
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain("changing rules needs an admin token");
    const audit = await (await api(site.url, admin, "GET", "/v1/audit")).json();
    expect(
      audit.entries.some((e: { path: string; status: number }) =>
        e.path === "/rules" && e.status === 403
      ),
    ).toBe(true);
  });

  test("a revoked token signs the person out with the reason", async () => {
    const token = await makeToken(site.db, "viewer");
    const cookie = await signIn(token);
    const { tokens } = await (await api(site.url, admin, "GET", "/v1/tokens")).json();
    const newest = tokens.filter((t: { role: string }) => t.role === "viewer").at(-1);
    expect((await api(site.url, admin, "DELETE", `/v1/tokens/${newest.id}`)).status).toBe(204);
    const response = await browse("/clients", cookie);
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toContain("why=token%20revoked");
  });

  test("table downloads are the API's CSV", async () => {
    await api(site.url, admin, "POST", "/v1/rules", { name: "Tool", fileName: "tool" });
    const fromConsole = await (await browse("/rules.csv", adminCookie)).text();
    const fromApi = await (await api(site.url, admin, "GET", "/v1/rules?format=csv")).text();
    expect(fromConsole).toBe(fromApi);
    const clients = await (await browse("/clients.csv", adminCookie)).text();
    expect(clients).toBe(
      await (await api(site.url, admin, "GET", "/v1/clients?format=csv")).text(),
    );
    const month = new Date().toISOString().slice(0, 7);
    const report = await (await browse(`/reports/total-usage.csv?month=${month}`, adminCookie))
      .text();
    expect(report).toBe(
      await (await api(site.url, admin, "GET", `/v1/reports/total-usage?month=${month}&format=csv`))
        .text(),
    );
  });

  test("a bad parameter or an unknown rule is a page saying so", async () => {
    const bad = await browse("/programs/S01-999", adminCookie);
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("no rule S01-999 applies at this site");
    const notRule = await browse("/programs/nonsense", adminCookie);
    expect(notRule.status).toBe(400);
    expect(await notRule.text()).toContain("nonsense is not a rule id");
  });
});
