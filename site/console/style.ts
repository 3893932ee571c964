/**
 * The console's one stylesheet, served at `/console.css`: system fonts,
 * contrast above WCAG AA (text #1a1a1a on white, links #0b57d0), visible
 * focus rings for keyboard use, and a layout that reflows to a phone's width
 * (tables scroll sideways inside their box instead of widening the page).
 * Pages style themselves with its classes only, never a `style` attribute:
 * the console's Content-Security-Policy refuses inline styles
 * (`security_headers.ts`).
 *
 * @module
 */
export const CONSOLE_CSS = `
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1a1a;background:#fff}
a{color:#0b57d0}
a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,textarea:focus-visible{outline:3px solid #f29900;outline-offset:2px}
header{background:#1f2937;color:#fff;padding:.5rem 1rem;display:flex;flex-wrap:wrap;gap:.25rem 1rem;align-items:center}
header a{color:#fff;text-decoration:none;padding:.25rem .5rem;border-radius:4px}
header a[aria-current=page]{background:#374151;text-decoration:underline}
header .brand{font-weight:700;margin-right:1rem}
header .who{margin-left:auto;display:flex;gap:.5rem;align-items:center}
main{padding:1rem;max-width:1200px;margin:0 auto}
h1{font-size:1.5rem;margin:.5rem 0 1rem}
h2{font-size:1.15rem;margin:1.5rem 0 .5rem}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(12rem,1fr));gap:.75rem}
.card{border:1px solid #d1d5db;border-radius:6px;padding:.75rem}
.card .figure{font-size:1.6rem;font-weight:700}
.table-box{overflow-x:auto;border:1px solid #d1d5db;border-radius:6px}
table{border-collapse:collapse;width:100%}
th,td{padding:.35rem .6rem;border-bottom:1px solid #e5e7eb;text-align:left;white-space:nowrap}
th a{color:inherit}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.pager,.actions{display:flex;flex-wrap:wrap;gap:.75rem;align-items:center;margin:.5rem 0}
form.stack{display:grid;gap:.75rem;max-width:36rem}
label{display:grid;gap:.2rem;font-weight:600}
label small{font-weight:400;color:#4b5563}
input,select,textarea{font:inherit;padding:.4rem;border:1px solid #6b7280;border-radius:4px}
input[type=checkbox]{width:1.1rem;height:1.1rem}
.check{display:flex;gap:.5rem;align-items:center}
button{font:inherit;padding:.4rem .9rem;border-radius:4px;border:1px solid #0b57d0;background:#0b57d0;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#0b57d0}
button.danger{background:#b3261e;border-color:#b3261e}
.field-error{color:#b3261e;font-weight:600}
.notice{padding:.6rem .8rem;border-radius:6px;background:#fef3c7;border:1px solid #d97706}
.error{padding:.6rem .8rem;border-radius:6px;background:#fde8e7;border:1px solid #b3261e}
.tag{display:inline-block;padding:0 .4rem;border-radius:4px;background:#e5e7eb;font-size:.85em}
figure{margin:0}
svg{max-width:100%;height:auto}
figure svg{width:100%;max-width:760px}
svg text{font:12px system-ui,sans-serif;fill:#1a1a1a}
.muted{color:#4b5563}
.inline{display:inline}
@media (max-width:600px){main{padding:.5rem}h1{font-size:1.25rem}header .who{margin-left:0}}
@media print{header,.pager,.actions{display:none}}
`;
