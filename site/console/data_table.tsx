/** @jsxImportSource hono/jsx */
/**
 * A table of rows, sorted and paged on the server: a column header is a link
 * that sorts by it (again for the other direction), pages are links, and the
 * whole state is in the URL (`<id>.sort`, `<id>.desc`, `<id>.page`), so a
 * sorted page can be bookmarked and works without a script. Several tables
 * share a page by their ids. Every table links to its rows as CSV.
 *
 * @module
 */
export interface Column<Row> {
  key: keyof Row & string;
  label: string;
  numeric?: boolean;
  /** Makes the cell a link. */
  href?: (row: Row) => string;
}

export interface TableView {
  sort: string;
  desc: boolean;
  page: number;
}

export const PAGE_SIZE = 25;

/** The table's state from the page's URL. */
export function tableView(
  url: URL,
  id: string,
  defaultSort: string,
  defaultDesc = false,
): TableView {
  const page = Number(url.searchParams.get(`${id}.page`) ?? "1");
  const desc = url.searchParams.get(`${id}.desc`);
  return {
    sort: url.searchParams.get(`${id}.sort`) ?? defaultSort,
    desc: desc === null ? defaultDesc : desc === "1",
    page: Number.isInteger(page) && page >= 1 ? page : 1,
  };
}

/** The rows in the view's order (unknown columns leave the order as it is). */
export function sortRows<Row extends Record<string, unknown>>(rows: Row[], view: TableView): Row[] {
  const sign = view.desc ? -1 : 1;
  return [...rows].sort((a, b) => sign * compare(a[view.sort], b[view.sort]));
}

function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a).localeCompare(String(b));
}

function withParams(url: URL, params: Record<string, string>): string {
  const next = new URL(url);
  for (const [key, value] of Object.entries(params)) next.searchParams.set(key, value);
  return next.pathname + next.search;
}

export interface DataTableProps<Row> {
  id: string;
  caption: string;
  columns: Column<Row>[];
  rows: Row[];
  view: TableView;
  url: URL;
  csvHref: string;
  empty?: string;
}

export function DataTable<Row extends Record<string, unknown>>(props: DataTableProps<Row>) {
  const { id, caption, columns, view, url } = props;
  const sorted = sortRows(props.rows, view);
  const pages = Math.max(1, Math.ceil(sorted.length / PAGE_SIZE));
  const page = Math.min(view.page, pages);
  const shown = sorted.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE);
  const sortHref = (key: string) =>
    withParams(url, {
      [`${id}.sort`]: key,
      [`${id}.desc`]: key === view.sort && !view.desc ? "1" : "0",
      [`${id}.page`]: "1",
    });
  return (
    <section id={id} aria-label={caption}>
      <div class="actions">
        <a href={props.csvHref} download>Download CSV</a>
        <span class="muted">{props.rows.length} {props.rows.length === 1 ? "row" : "rows"}</span>
      </div>
      <div class="table-box">
        <table>
          <caption class="muted">{caption}</caption>
          <thead>
            <tr>
              {columns.map((col) => (
                <th
                  class={col.numeric ? "num" : undefined}
                  aria-sort={col.key === view.sort
                    ? (view.desc ? "descending" : "ascending")
                    : undefined}
                  scope="col"
                >
                  <a href={sortHref(col.key)}>{col.label}</a>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {shown.length === 0 && (
              <tr>
                <td colspan={columns.length} class="muted">{props.empty ?? "Nothing yet."}</td>
              </tr>
            )}
            {shown.map((row) => (
              <tr>
                {columns.map((col) => (
                  <td class={col.numeric ? "num" : undefined}>
                    {col.href
                      ? <a href={col.href(row)}>{text(row[col.key])}</a>
                      : text(row[col.key])}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {pages > 1 && (
        <nav class="pager" aria-label={`${caption}: pages`}>
          {page > 1 && <a href={withParams(url, { [`${id}.page`]: String(page - 1) })}>Previous</a>}
          <span>Page {page} of {pages}</span>
          {page < pages && <a href={withParams(url, { [`${id}.page`]: String(page + 1) })}>Next</a>}
        </nav>
      )}
    </section>
  );
}

function text(value: unknown): string {
  if (value === null || value === undefined) return "—";
  if (typeof value === "boolean") return value ? "yes" : "no";
  return String(value);
}
