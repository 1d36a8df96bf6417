// bascule control room: the little script the pages need. No framework,
// no build step; every page works without it (a confirmation page stands in
// for the dialogs), and with it: dialogs, live updates over Server-Sent
// Events, charts, and no double submissions.
'use strict';
(function () {
  // ---- Confirmation dialogs and forms -------------------------------------

  // openDialog shows the form's confirmation dialog; false when the browser
  // has no <dialog>, and the server's confirmation page asks instead.
  function openDialog(form) {
    var dlg = form.querySelector('dialog');
    if (!dlg || typeof dlg.showModal !== 'function') return false;
    echo(form);
    dlg.showModal();
    var reason = dlg.querySelector('input[name=reason]');
    if (reason) reason.focus();
    return true;
  }

  // echo copies the chosen release into the dialog's text.
  function echo(form) {
    var src = form.querySelector('[data-echo-source]');
    if (!src) return;
    form.querySelectorAll('[data-echo]').forEach(function (el) { el.textContent = src.value; });
  }

  document.addEventListener('click', function (e) {
    var t = e.target;
    if (!(t instanceof Element)) return;
    var ask = t.closest('[data-ask]');
    if (ask && ask.form && !ask.disabled && openDialog(ask.form)) {
      e.preventDefault();
      return;
    }
    var cancel = t.closest('[data-cancel]');
    if (cancel) {
      cancel.closest('dialog').close();
      return;
    }
    var copy = t.closest('[data-copy]');
    if (copy) copySecret(copy);
  });

  document.addEventListener('change', function (e) {
    if (e.target instanceof Element && e.target.matches('[data-echo-source]')) echo(e.target.form);
  });

  // Every POST form is sent once: a double click on Deploy makes one
  // deployment (and the server refuses a second one anyway, with a 409).
  document.addEventListener('submit', function (e) {
    var form = e.target;
    if ((form.getAttribute('method') || '').toLowerCase() !== 'post') return;
    if (form.hasAttribute('data-ask-form')) {
      var dlg = form.querySelector('dialog');
      if (dlg && !dlg.open && openDialog(form)) {
        e.preventDefault();
        return;
      }
      var confirm = form.querySelector('input[name=confirm]');
      if (confirm && dlg && dlg.open) confirm.value = 'yes';
    }
    if (form.dataset.confirmText && !window.confirm(form.dataset.confirmText)) {
      e.preventDefault();
      return;
    }
    if (form.dataset.sent) {
      e.preventDefault();
      return;
    }
    form.dataset.sent = '1';
    // Disable after the submission has read the form: a disabled button
    // would drop its own name and value from it.
    setTimeout(function () {
      form.querySelectorAll('button').forEach(function (b) {
        b.disabled = true;
        b.setAttribute('aria-busy', 'true');
      });
    }, 0);
  }, true);

  // A page restored from the back/forward cache must not stay disabled.
  window.addEventListener('pageshow', function (e) {
    if (!e.persisted) return;
    document.querySelectorAll('form[data-sent]').forEach(function (form) {
      delete form.dataset.sent;
      form.querySelectorAll('button[aria-busy]').forEach(function (b) {
        b.disabled = false;
        b.removeAttribute('aria-busy');
      });
    });
  });

  document.addEventListener('input', function (e) {
    var t = e.target;
    if (!(t instanceof Element) || !t.dataset.output) return;
    var out = document.getElementById(t.dataset.output);
    if (out) out.textContent = t.value + '%';
  });

  function copySecret(button) {
    var input = document.getElementById(button.dataset.copy);
    if (!input) return;
    input.select();
    var done = function () { button.textContent = 'Copied'; };
    if (navigator.clipboard) {
      navigator.clipboard.writeText(input.value).then(done, function () { document.execCommand('copy'); done(); });
    } else {
      document.execCommand('copy');
      done();
    }
  }

  function note(text) {
    var el = document.getElementById('stream-note');
    if (!el) return;
    el.textContent = text;
    el.hidden = false;
  }

  function onError(es) {
    return function () {
      if (es.readyState === EventSource.CLOSED) note('Live updates stopped. Reload the page, or log in again.');
    };
  }

  // ---- Overview: live panel and traffic charts ----------------------------

  var maxPoints = 60;

  function overview() {
    var box = document.getElementById('overview');
    if (!box || !window.EventSource) return;
    var series = {};
    box.querySelectorAll('.chart').forEach(function (c) {
      try {
        series[c.dataset.color] = JSON.parse(c.dataset.history || '[]');
      } catch (err) {
        series[c.dataset.color] = [];
      }
    });
    var pending = null;
    var panel = document.getElementById('panel');
    var es = new EventSource(box.dataset.stream + '?sig=' + encodeURIComponent(panel ? panel.dataset.sig : ''));

    function draw() {
      box.querySelectorAll('.chart').forEach(function (c) { drawChart(c, series[c.dataset.color] || []); });
    }

    // busy says whether the user is in the middle of something the panel
    // holds: an open dialog or a field with focus. The panel waits.
    function busy() {
      var a = document.activeElement;
      return box.querySelector('dialog[open]') || (a && box.contains(a) && a.matches('input, select, textarea'));
    }

    function applyPanel() {
      if (pending === null) return;
      if (busy()) {
        setTimeout(applyPanel, 500);
        return;
      }
      var a = document.activeElement;
      var refocus = a && box.contains(a) && a.form ? a.form.getAttribute('action') : null;
      box.innerHTML = pending;
      pending = null;
      draw();
      if (refocus) {
        var again = box.querySelector('form[action="' + refocus + '"] [data-ask]');
        if (again) again.focus();
      }
    }

    es.addEventListener('stats', function (e) {
      var d = JSON.parse(e.data);
      Object.keys(d).forEach(function (color) {
        var s = series[color] || (series[color] = []);
        s.push(d[color]);
        if (s.length > maxPoints) s.splice(0, s.length - maxPoints);
      });
      draw();
    });
    es.addEventListener('panel', function (e) {
      pending = e.data;
      applyPanel();
    });
    es.addEventListener('expired', function () {
      es.close();
      note('Your session has ended: log in again to keep watching.');
    });
    es.onerror = onError(es);
    draw();
  }

  function drawChart(chart, points) {
    var w = 120, h = 36, pad = 3;
    var max = 1;
    points.forEach(function (p) { if (p.rps > max) max = p.rps; });
    // A young chart is stretched over at least a sixth of the width, so a
    // few points read as a line, not as a mark in the corner.
    var slots = Math.max(Math.min(points.length, maxPoints), 10);
    var step = w / (slots - 1);
    var x0 = w - (points.length - 1) * step;
    var line = function (val) {
      return points.map(function (p, i) {
        return (x0 + i * step).toFixed(1) + ',' + (h - pad - val(p) * (h - 2 * pad)).toFixed(1);
      }).join(' ');
    };
    chart.querySelector('polyline.rps').setAttribute('points', line(function (p) { return p.rps / max; }));
    chart.querySelector('polyline.err').setAttribute('points', line(function (p) { return Math.min(p.err_pct, 100) / 100; }));
    var last = points[points.length - 1];
    if (last) {
      chart.querySelector('.rps-value').textContent = last.rps.toFixed(1);
      chart.querySelector('.err-value').textContent = last.err_pct.toFixed(1);
    }
  }

  // ---- Deployment: steps and app log as they happen -----------------------

  function deployment() {
    var box = document.getElementById('deployment');
    var log = document.getElementById('log');
    if (log) log.scrollTop = log.scrollHeight;
    if (!box || !box.dataset.stream || !window.EventSource) return;
    var es = new EventSource(box.dataset.stream);
    es.addEventListener('deployment', function (e) {
      box.innerHTML = e.data;
      startClocks();
    });
    es.addEventListener('log', function (e) {
      var atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 8;
      log.innerHTML = e.data;
      if (atEnd) log.scrollTop = log.scrollHeight;
    });
    es.addEventListener('end', function () {
      es.close();
      box.removeAttribute('data-stream');
    });
    es.onerror = onError(es);
    startClocks();
    setInterval(tickClocks, 250);
  }

  // The running step's duration counts up between events, from the value
  // the server sent (so the browser's clock does not matter).
  function startClocks() {
    var now = performance.now();
    document.querySelectorAll('.dur[data-secs]').forEach(function (el) { el.dataset.t0 = now; });
  }

  function tickClocks() {
    var now = performance.now();
    document.querySelectorAll('.dur[data-secs]').forEach(function (el) {
      var s = parseFloat(el.dataset.secs) + (now - parseFloat(el.dataset.t0 || now)) / 1000;
      el.textContent = s < 60 ? s.toFixed(1) + 's' : Math.floor(s / 60) + 'm' + String(Math.floor(s % 60)).padStart(2, '0') + 's';
    });
  }

  function start() {
    overview();
    deployment();
  }
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
