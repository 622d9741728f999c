// deckhand status page: live updates. The page is complete without this
// script; it only keeps an open page current by listening to /events and
// rewriting the banner and the container rows in place.
(function () {
  'use strict';
  if (!window.EventSource || !window.CSS || !CSS.escape) { return; }

  var WORDS = { up: 'Up', stopped: 'Stopped', degraded: 'Degraded', down: 'Down', recovering: 'Recovering',
    maintenance: 'Maintenance', unknown: 'Unknown', checking: 'Checking', disabled: 'Disabled' };
  var OVERALL = { operational: 'All systems operational', checking: 'Checking services', recovering: 'Recovering',
    degraded: 'Degraded service', major_outage: 'Major outage' };
  var HEALTH = { healthy: 'Healthy', unhealthy: 'Unhealthy', starting: 'Starting' };
  var PERIODS = { '24h': 'uptime_24h', '7d': 'uptime_7d', '30d': 'uptime_30d', '90d': 'uptime_90d' };

  var COUNTS = [['up', 'up'], ['recovering', 'recovering'], ['degraded', 'degraded'], ['down', 'down'],
    ['maintenance', 'in maintenance'], ['stopped', 'stopped'], ['unknown', 'unknown'], ['checking', 'checking']];

  // Same words as the server's countsText.
  function countsText(containers) {
    var n = {};
    containers.forEach(function (c) { n[c.status] = (n[c.status] || 0) + 1; });
    var parts = [];
    COUNTS.forEach(function (k) { if (n[k[0]]) { parts.push(n[k[0]] + ' ' + k[1]); } });
    return parts.length ? parts.join(' \u00b7 ') : 'no public services';
  }

  function icon(level) {
    switch (level) {
      case 'up': case 'recovering': case 'operational': return 'ok';
      case 'degraded': return 'warn';
      case 'down': case 'major_outage': return 'down';
      case 'maintenance': return 'maint';
      case 'stopped': return 'stop';
    }
    return 'unknown';
  }
  // Same format as the server renders, so a live page reads like a fresh one.
  function fmtTime(iso) {
    if (!iso) { return ''; }
    var d = new Date(iso);
    if (isNaN(d.getTime())) { return ''; }
    return d.toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
  }
  function pct(v) { return (v === null || v === undefined) ? 'no data' : String(v) + '%'; }
  function field(root, name) { return root.querySelector('[data-field="' + name + '"]'); }
  function setText(el, text) { if (el && el.textContent !== text) { el.textContent = text; } }
  function setLevel(el, prefix, level) {
    if (!el) { return; }
    Array.prototype.slice.call(el.classList).forEach(function (c) {
      if (c.indexOf(prefix) === 0) { el.classList.remove(c); }
    });
    el.classList.add(prefix + level);
    var use = el.querySelector('use');
    if (use) { use.setAttribute('href', '#i-' + icon(level)); }
  }
  function setTime(el, iso) {
    if (!el) { return; }
    el.setAttribute('datetime', iso || '');
    setText(el, fmtTime(iso));
  }

  function updateRow(row, c) {
    row.setAttribute('data-status', c.status);
    setLevel(row, 'lv-', c.status);
    var pill = field(row, 'status');
    setLevel(pill, 'lv-', c.status);
    setText(field(pill, 'status-text'), WORDS[c.status] || c.status);
    setText(field(row, 'state'), c.state);
    var health = field(row, 'health');
    setText(health, HEALTH[c.health] || '');
    if (health) { health.hidden = !c.health; }
    var maint = field(row, 'maintenance');
    setText(maint, c.maintenance || '');
    if (maint) { maint.hidden = !c.maintenance; }
    var since = field(row, 'since-wrap');
    if (since) { since.hidden = !c.since; setTime(field(since, 'since'), c.since); }
    Object.keys(PERIODS).forEach(function (k) { setText(field(row, 'uptime-' + k), pct(c[PERIODS[k]])); });
  }

  function apply(doc) {
    var main = document.getElementById('main');
    var scope = main ? main.getAttribute('data-scope-host') : null;
    // A summarised front page shows only the containers that need attention.
    var summary = !!(main && main.hasAttribute('data-summary'));
    var banner = document.querySelector('[data-overall]');
    if (banner) {
      banner.setAttribute('data-overall', doc.overall);
      setLevel(banner, 'ov-', doc.overall);
      setText(field(banner, 'overall-text'), doc.hosts.length ? (OVERALL[doc.overall] || doc.overall) : 'No data yet');
    }
    setTime(field(document, 'generated'), doc.generated_at);

    var changed = false, seen = 0;
    doc.hosts.forEach(function (h) {
      var hostEl = document.querySelector('[data-hostname="' + CSS.escape(h.name) + '"]');
      if (!hostEl) { if (!scope) { changed = true; } return; }
      var pill = field(hostEl, 'host-status');
      setLevel(pill, 'lv-', h.status);
      setText(field(pill, 'status-text'), WORDS[h.status] || h.status);
      setTime(field(hostEl, 'checked'), h.last_collect_at);
      setText(field(hostEl, 'counts'), countsText(h.containers));
      h.containers.forEach(function (c) {
        var row = hostEl.querySelector('[data-container="' + CSS.escape(c.name) + '"]');
        if (!row) {
          if (!summary || c.status === 'down' || c.status === 'degraded') { changed = true; }
          return;
        }
        seen++;
        updateRow(row, c);
      });
    });
    if (document.querySelectorAll('[data-container]').length !== seen) { changed = true; }
    var open = doc.incidents.filter(function (i) { return i.active && (!scope || i.host === scope); });
    var shown = document.querySelectorAll('[data-incident]');
    if (open.length !== shown.length) {
      changed = true;
    } else {
      open.forEach(function (i) {
        if (!document.querySelector('[data-incident="' + CSS.escape(i.host + '/' + i.container + '/' + i.kind) + '"]')) { changed = true; }
      });
    }
    var notice = field(document, 'reload');
    if (notice) { notice.hidden = !changed; }
  }

  var source = new EventSource('/events');
  source.addEventListener('status', function (e) {
    var doc;
    try { doc = JSON.parse(e.data); } catch (err) { return; }
    apply(doc);
  });
})();
