// The desk's live part: server-sent events from /desk/events replace the screen pop, the
// status badge and the call's panel; when the stream is down, /desk/pop and /desk/status are
// polled instead.
(function () {
  "use strict";
  var slots = { pop: "pop-slot", status: "status-slot", panel: "call-panel" };
  var last = {};
  var timer = null;
  var me = document.currentScript;
  var panel = me ? me.getAttribute("data-panel") || "" : "";

  function put(name, html) {
    if (name === "panel") {
      // First line: which call the panel is about; the same call keeps its half-filled forms.
      var cut = html.indexOf("\n");
      var key = cut < 0 ? html : html.slice(0, cut);
      if (key === panel) return;
      panel = key;
      html = cut < 0 ? "" : html.slice(cut + 1);
    }
    var el = document.getElementById(slots[name]);
    if (!el || last[name] === html) return;
    last[name] = html;
    el.innerHTML = html;
    if (window.htmx) window.htmx.process(el);
  }

  function fetchInto(name, url) {
    fetch(url, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) { if (html !== null) put(name, html); })
      .catch(function () {});
  }
  function poll() {
    fetchInto("pop", "/desk/pop");
    fetchInto("status", "/desk/status");
  }
  function startPolling() { if (!timer) { poll(); timer = setInterval(poll, 1500); } }
  function stopPolling() { if (timer) { clearInterval(timer); timer = null; } }

  if (!window.EventSource) { startPolling(); return; }
  var es = new EventSource("/desk/events?panel=" + encodeURIComponent(panel));
  Object.keys(slots).forEach(function (name) {
    es.addEventListener(name, function (e) { put(name, e.data); });
  });
  es.onopen = stopPolling;
  es.onerror = startPolling;  // EventSource reconnects by itself; polling covers the gap
})();
