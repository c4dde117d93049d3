// The live notification feed: a websocket on /api/v1/live (the session
// cookie authenticates it) that appends each act about one's children to
// the feed as it is recorded. Without JavaScript, or when the socket
// cannot open, the page stays a plain list with a refresh link.
(function () {
  'use strict';
  var feed = document.querySelector('[data-live-feed]');
  if (!feed || !('WebSocket' in window) || !window.JSON) { return; }
  var list = feed.querySelector('[data-live-list]');
  var status = feed.querySelector('[data-live-status]');
  var names = parse(feed.getAttribute('data-names'));
  var labels = parse(feed.getAttribute('data-labels'));
  var after = feed.getAttribute('data-after') || '';
  var tz = feed.getAttribute('data-tz') || undefined;
  var pattern = feed.getAttribute('data-when') || '{d}/{m}/{y} {H}:{M}';
  var months = parse(feed.getAttribute('data-months'));
  var seen = {};
  var items = list.querySelectorAll('li[data-position]');
  for (var i = 0; i < items.length; i++) { seen[items[i].getAttribute('data-position')] = true; }
  var wait = 1000;

  function parse(s) {
    try { return JSON.parse(s || '{}') || {}; } catch (e) { return {}; }
  }

  function say(key) {
    if (status) { status.textContent = feed.getAttribute(key) || ''; }
  }

  // when writes an instant in the establishments' time zone, as the
  // server does (the pattern and month names come from the page).
  function when(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) { return ''; }
    var p = {};
    try {
      var parts = new Intl.DateTimeFormat('en-GB', {
        timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23'
      }).formatToParts(d);
      for (var i = 0; i < parts.length; i++) { p[parts[i].type] = parts[i].value; }
    } catch (e) {
      return d.toISOString();
    }
    var mon = months[parseInt(p.month, 10) - 1] || p.month;
    return pattern.replace('{d}', p.day).replace('{D}', String(parseInt(p.day, 10))).replace('{mon}', mon).replace('{m}', p.month)
      .replace('{y}', p.year).replace('{H}', p.hour).replace('{M}', p.minute);
  }

  // students returns the names of the followed students an event is about.
  function students(d) {
    var out = [];
    var ids = [];
    if (d.student) { ids.push(d.student); }
    if (d.protagonists) {
      for (var i = 0; i < d.protagonists.length; i++) { ids.push(d.protagonists[i].account); }
    }
    for (var j = 0; j < ids.length; j++) {
      if (names[ids[j]] && out.indexOf(names[ids[j]]) < 0) { out.push(names[ids[j]]); }
    }
    return out.join(', ');
  }

  // detail writes the particulars of an event as the server does.
  function detail(type, d) {
    if (type.indexOf('homework.') === 0 && d.due) { return (d.subject || '') + ' \u2192 ' + d.due; }
    if (type === 'message.sent.v1') { return d.subject || ''; }
    if (type === 'punishment.given.v1' || type === 'sanction.pronounced.v1') { return [d.kind, d.date].join(', '); }
    var parts = [];
    if (d.date) { parts.push(d.date); }
    if (d.slot && d.slot.start) { parts.push(d.slot.start); }
    if (d.subject) { parts.push(d.subject); }
    if (!parts.length && d.reason_code) { parts.push(d.reason_code); }
    var s = parts.join(' ');
    if (d.minutes) { s += ' (+' + d.minutes + ' min)'; }
    return s;
  }

  function add(frame) {
    var label = labels[frame.type];
    if (!label || seen[frame.position]) { return; }
    seen[frame.position] = true;
    var d = frame.data || {};
    var li = document.createElement('li');
    li.setAttribute('data-position', frame.position);
    li.className = 'new';
    var t = document.createElement('time');
    t.setAttribute('datetime', frame.time);
    t.textContent = when(frame.time);
    var strong = document.createElement('strong');
    strong.textContent = label;
    li.appendChild(t);
    li.appendChild(document.createTextNode(' '));
    li.appendChild(strong);
    var who = students(d);
    if (who) { li.appendChild(document.createTextNode(' \u2014 ' + who)); }
    var more = detail(frame.type, d);
    if (more) {
      var span = document.createElement('span');
      span.textContent = more;
      li.appendChild(document.createTextNode(' \u2014 '));
      li.appendChild(span);
    }
    list.insertBefore(li, list.firstChild);
    var empty = feed.querySelector('[data-live-empty]');
    if (empty) { empty.parentNode.removeChild(empty); }
  }

  function connect() {
    var url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + feed.getAttribute('data-live-url');
    if (after) { url += '?after=' + encodeURIComponent(after); }
    var ws;
    try { ws = new WebSocket(url); } catch (e) { return; }
    ws.onopen = function () { wait = 1000; say('data-status-on'); feed.setAttribute('data-live-open', 'true'); };
    ws.onmessage = function (ev) {
      var frame;
      try { frame = JSON.parse(ev.data); } catch (e) { return; }
      if (!frame || !frame.type) { return; }
      if (frame.position) { after = frame.position; }
      add(frame);
    };
    ws.onclose = function (ev) {
      feed.removeAttribute('data-live-open');
      say('data-status-off');
      if (ev.code === 4000) { after = ''; } // too far behind: live from now on
      setTimeout(connect, wait);
      wait = Math.min(wait * 2, 30000);
    };
  }

  connect();
}());
