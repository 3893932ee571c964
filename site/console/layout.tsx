/** @jsxImportSource hono/jsx */
/**
 * The frame of every console page: a header with the site's code, the
 * sections, who is signed in and a sign-out button, then the page. Pages are
 * whole HTML documents rendered on the server: they work without a script,
 * print, and each has a stable URL.
 *
 * @module
 */
import type { Child } from "hono/jsx";

export interface PageFrame {
  title: string;
  siteCode: string;
  /** The section to mark as current in the header. */
  section?: "overview" | "rules" | "licences" | "clients" | "programs";
  /** The signed-in role; none on the sign-in page. */
  role?: string;
  children?: Child;
}

const SECTIONS = [
  ["overview", "/", "Overview"],
  ["rules", "/rules", "Rules"],
  ["licences", "/licences", "Licences"],
  ["clients", "/clients", "Clients"],
] as const;

export function Layout({ title, siteCode, section, role, children }: PageFrame) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${title} · Meter ${siteCode}`}</title>
        <link rel="stylesheet" href="/console.css" />
      </head>
      <body>
        <header>
          <span class="brand">Meter · {siteCode}</span>
          {role && (
            <nav aria-label="Sections">
              {SECTIONS.map(([key, href, label]) => (
                <a href={href} aria-current={section === key ? "page" : undefined}>{label}</a>
              ))}
            </nav>
          )}
          {role && (
            <form class="who" method="post" action="/sign-out">
              <span>Signed in: {role}</span>
              <button type="submit" class="secondary">Sign out</button>
            </form>
          )}
        </header>
        <main>
          <h1>{title}</h1>
          {children}
        </main>
      </body>
    </html>
  );
}

/** A whole page as the HTML text to answer with. */
export function renderPage(frame: PageFrame): string {
  return "<!doctype html>" + String(<Layout {...frame} />);
}
