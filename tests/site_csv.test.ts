/**
 * CSV cells: RFC 4180 quoting, and text that a spreadsheet would run as a
 * formula shown as text instead.
 */
import { expect, test } from "vitest";
import { toCsv } from "../lib/csv.ts";

test("quotes what needs quoting and defuses formulas in text", () => {
  const csv = toCsv(["exe", "argv0", "count"], [
    { exe: "/usr/bin/a,b", argv0: 'say "hi"', count: -5 },
    { exe: '=HYPERLINK("http://x")', argv0: "-bash", count: 1 },
    { exe: "@SUM(A1)", argv0: "+1", count: null },
  ]);
  expect(csv.split("\r\n")).toEqual([
    "exe,argv0,count",
    '"/usr/bin/a,b","say ""hi""",-5',
    `"'=HYPERLINK(""http://x"")",'-bash,1`,
    "'@SUM(A1),'+1,",
    "",
  ]);
});
