/**
 * The page at / when the viewer was not built (dist/viewer missing: run `npm run build`): the
 * session list, refreshed every second from the REST API, with links to each session's JSON.
 */
export const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Zonescope</title>
<style>
 body { font: 14px system-ui, sans-serif; margin: 2em; color: #222; }
 table { border-collapse: collapse; }
 th, td { padding: 4px 10px; border-bottom: 1px solid #ddd; text-align: left; }
 td.num { text-align: right; font-variant-numeric: tabular-nums; }
 .live { color: #080; } .ended { color: #888; }
</style>
</head>
<body>
<h1>Zonescope</h1>
<p><strong>The viewer is not built</strong> (dist/viewer is missing): run <code>npm run build</code>.</p>
<p>Sessions (live and ended). Point a Tracy app at this server: <code>zonescope serve --connect HOST</code>,
or dial the ingest port from the SDK.</p>
<table id="sessions"><thead><tr>
 <th>id</th><th>app</th><th>pid</th><th>via</th><th>state</th><th>zones</th><th>bytes</th><th>ended because</th>
</tr></thead><tbody></tbody></table>
<script>
async function refresh() {
  try {
    const list = await (await fetch('/api/sessions')).json();
    const body = document.querySelector('#sessions tbody');
    body.replaceChildren(...list.map((s) => {
      const tr = document.createElement('tr');
      const cells = [s.id, s.app ?? '?', s.pid ?? '', s.source + ' ' + s.remote, s.state, s.zones, s.bytes,
        s.endReason ? s.endReason + (s.error ? ': ' + s.error.message : '') : ''];
      cells.forEach((v, i) => {
        const td = document.createElement('td');
        if (i === 0) { const a = document.createElement('a'); a.href = '/api/sessions/' + s.id; a.textContent = v; td.append(a); }
        else td.textContent = String(v);
        if (i === 5 || i === 6) td.className = 'num';
        if (i === 4) td.className = s.state === 'ended' ? 'ended' : 'live';
        tr.append(td);
      });
      return tr;
    }));
  } catch (e) { /* server restarting: try again */ }
}
refresh();
setInterval(refresh, 1000);
</script>
</body>
</html>
`;
