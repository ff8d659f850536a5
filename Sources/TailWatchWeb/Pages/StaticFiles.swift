/// The page's style sheet and script, served from the daemon itself (`/static/…`): nothing is
/// fetched from another host, and the Content-Security-Policy allows no inline script or style.
enum StaticFiles {
    static func response(for path: String) -> HTTPResponse? {
        switch path {
        case "/static/style.css": HTTPResponse(contentType: "text/css; charset=utf-8", body: Array(style.utf8))
        case "/static/live.js": HTTPResponse(contentType: "text/javascript; charset=utf-8", body: Array(script.utf8))
        default: nil
        }
    }

    static let style = """
        :root { --fg: #1d2327; --muted: #646970; --line: #dcdcde; --bg: #fff; --head: #1d2b3a; --ok: #3a9d5d; --warn: #dba617; --bad: #d63638; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: #f6f7f7; }
        header { background: var(--head); color: #fff; padding: .5rem 1rem; display: flex; flex-wrap: wrap; align-items: center; gap: .25rem 1rem; }
        header strong { font-size: 1.05rem; margin-right: 1rem; }
        header a { color: #c3d4e6; text-decoration: none; padding: .25rem .1rem; }
        header a.active, header a:hover { color: #fff; border-bottom: 2px solid #fff; }
        main { padding: 1rem; max-width: 1200px; margin: 0 auto; }
        section { background: var(--bg); border: 1px solid var(--line); border-radius: 4px; padding: .75rem 1rem; margin-bottom: 1rem; }
        h1 { font-size: 1.3rem; margin: .2rem 0 1rem; } h2 { font-size: 1.05rem; margin: .2rem 0 .6rem; }
        .scroll { overflow-x: auto; }
        table.report { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
        table.report th, table.report td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--line); white-space: nowrap; }
        table.report td { max-width: 28rem; overflow: hidden; text-overflow: ellipsis; }
        table.report th { background: #f0f0f1; cursor: pointer; user-select: none; }
        table.report th.num, table.report td.num { text-align: right; }
        table.report tfoot td { font-weight: 600; border-top: 2px solid var(--line); }
        .bar { display: inline-block; width: 9rem; height: .8rem; background: #eee; border-radius: 2px; vertical-align: middle; margin-right: .4rem; }
        .bar span { display: block; height: 100%; border-radius: 2px; background: var(--ok); }
        .bar.warn span { background: var(--warn); } .bar.high span { background: #e07b24; } .bar.bad span { background: var(--bad); }
        .w0 { width: 0 } .w5 { width: 5% } .w10 { width: 10% } .w15 { width: 15% } .w20 { width: 20% } .w25 { width: 25% } .w30 { width: 30% } .w35 { width: 35% } .w40 { width: 40% } .w45 { width: 45% } .w50 { width: 50% } .w55 { width: 55% } .w60 { width: 60% } .w65 { width: 65% } .w70 { width: 70% } .w75 { width: 75% } .w80 { width: 80% } .w85 { width: 85% } .w90 { width: 90% } .w95 { width: 95% } .w100 { width: 100% }
        .status-up { color: var(--ok); font-weight: 600; } .status-down, .status-failing { color: var(--bad); font-weight: 600; }
        .cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(12rem, 1fr)); gap: .75rem; margin-bottom: 1rem; }
        a.card { color: inherit; text-decoration: none; } a.card:hover { border-color: #2f6fb0; }
        .card { background: var(--bg); border: 1px solid var(--line); border-radius: 4px; padding: .6rem .8rem; }
        .card b { display: block; font-size: 1.35rem; } .card small { color: var(--muted); }
        .empty, .note { color: var(--muted); }
        nav.months { display: flex; gap: 1rem; margin-bottom: .6rem; }
        form.filters { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; margin-bottom: .6rem; }
        form.filters label { display: flex; flex-direction: column; font-size: .85rem; color: var(--muted); }
        input, select, button { font: inherit; padding: .25rem .4rem; }
        figure.chart { margin: 0 0 1rem; } figure.chart svg { width: 100%; height: auto; max-height: 260px; }
        figcaption { font-weight: 600; margin-bottom: .3rem; }
        svg .grid { stroke: #e2e4e7; } svg .axis { font-size: 10px; fill: var(--muted); }
        ul.legend { list-style: none; padding: 0; margin: .2rem 0 0; display: flex; gap: 1rem; flex-wrap: wrap; }
        ul.legend span { display: inline-block; width: .8rem; height: .8rem; margin-right: .3rem; vertical-align: middle; }
        .s0 { background: #2f6fb0 } .s1 { background: #e0912f } .s2 { background: #3a9d5d } .s3 { background: #b0413e } .s4 { background: #7d5ba6 } .s5 { background: #8c6d31 } .s6 { background: #4aa3a3 } .s7 { background: #c25b9e }
        footer { color: var(--muted); font-size: .8rem; padding: 0 1rem 1rem; text-align: center; }
        @media (max-width: 640px) { main { padding: .5rem; } section { padding: .5rem; } .bar { width: 5rem; } }
        """

    /// Sortable tables, and the live update: every 10 s the page is fetched again and its `<main>`
    /// replaced when it changed (a light poll: one small read, no connection held open).
    static let script = """
        'use strict';
        function sortable(root) {
          root.querySelectorAll('table.sortable th').forEach(function (th, index) {
            th.addEventListener('click', function () {
              var table = th.closest('table'), body = table.tBodies[0];
              var asc = th.getAttribute('aria-sort') !== 'ascending';
              table.querySelectorAll('th').forEach(function (h) { h.removeAttribute('aria-sort'); });
              th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
              var rows = Array.prototype.slice.call(body.rows);
              rows.sort(function (a, b) {
                var x = a.cells[index], y = b.cells[index];
                var xv = x.getAttribute('data-v'), yv = y.getAttribute('data-v');
                var r = (xv !== null && yv !== null) ? (parseFloat(xv) - parseFloat(yv)) : x.textContent.localeCompare(y.textContent);
                return asc ? r : -r;
              });
              rows.forEach(function (r) { body.appendChild(r); });
            });
          });
        }
        sortable(document);
        document.documentElement.setAttribute('data-script', 'ready');
        var live = document.body.getAttribute('data-live') === 'on';
        if (live) {
          setInterval(function () {
            if (document.hidden) return;
            fetch(location.href, { headers: { 'X-Requested-With': 'tailwatch-live' } })
              .then(function (r) { return r.ok ? r.text() : null; })
              .then(function (text) {
                if (!text) return;
                var next = new DOMParser().parseFromString(text, 'text/html').querySelector('main');
                var main = document.querySelector('main');
                if (next && main && next.innerHTML !== main.innerHTML) { main.innerHTML = next.innerHTML; sortable(main); }
              })
              .catch(function () {});
          }, 10000);
        }
        """
}
