// Supervisors' reports: GET /api/reports?from=&to= (JSON) drawn as key figures and small SVG bar
// charts; the CSV comes from /api/reports.csv. Shares the agent console's session (log in on
// /agent or here); only supervisors may read reports.
(function () {
  'use strict';
  var SVG = 'http://www.w3.org/2000/svg';
  var session = null;
  // web/staffSession.js: the stored session (not judged by this machine's clock: an expired token
  // gets a 401, handled where the report loads), authorised calls and the login form.
  var auth = window.staffSession({ onChange: function (s) { session = s; }, onLogin: function () { start(); } });

  var NAMES = {
    installments: '分期 Installments', extension: '延期 Extension', waiver: '减免 Waiver', promise: '承诺还款 Promise',
    pending_review: '待审核 Pending', verified: '已核实 Verified', rejected: '已驳回 Rejected',
    collection_conduct: '催收行为 Conduct', fees_and_penalties: '费用罚息 Fees', privacy: '隐私 Privacy',
    repayment_processing: '还款处理 Processing', service: '服务态度 Service', other: '其他 Other',
    explicitRequest: '主动要求 Asked for a person', beyondSelfService: '超出自助 Beyond self-service',
    highSeverityComplaint: '严重投诉 Serious complaint'
  };
  function name(k) { return NAMES[k] || k; }

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function svg(tag, attrs, text) {
    var e = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, String(attrs[k])); });
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function yuan(fen) { return '¥' + (fen / 100).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 }); }
  function pct(x) { return (x * 100).toFixed(1) + '%'; }
  function wait(s) { return s === null || s === undefined ? '—' : s < 120 ? s + ' 秒 s' : (s / 60).toFixed(1) + ' 分钟 min'; }


  // ---- log in ------------------------------------------------------------------------------------

  function showLogin(message) {
    auth.save(null);
    $('report-view').hidden = true;
    $('who').hidden = true;
    $('login-view').hidden = false;
    $('login-error').textContent = message || '';
  }

  $('logout').addEventListener('click', function () { showLogin(''); });

  function start() {
    if (session.role !== 'supervisor') { showLogin('报表仅限主管查看。Reports are for supervisors only.'); return; }
    $('login-view').hidden = true;
    $('who').hidden = false;
    $('who-name').textContent = session.username;
    $('report-view').hidden = false;
    load();
  }

  // ---- range -------------------------------------------------------------------------------------

  function isoDate(d) {
    return d.getFullYear() + '-' + String(d.getMonth() + 1).padStart(2, '0') + '-' + String(d.getDate()).padStart(2, '0');
  }
  (function initialRange() {
    var q = new URLSearchParams(location.search);
    var today = new Date();
    var monthAgo = new Date(today.getTime() - 29 * 86400000);
    $('from').value = q.get('from') || isoDate(monthAgo);
    $('to').value = q.get('to') || isoDate(today);
  })();
  function rangeQuery() { return '?from=' + encodeURIComponent($('from').value) + '&to=' + encodeURIComponent($('to').value); }

  $('range-form').addEventListener('submit', function (e) {
    e.preventDefault();
    history.replaceState(null, '', '/reports' + rangeQuery());
    load();
  });

  $('csv').addEventListener('click', function () {
    $('range-error').textContent = '';
    auth.request('GET', '/api/reports.csv' + rangeQuery()).then(function (res) {
      if (res.status === 401) { showLogin('会话已过期，请重新登录。Your session has expired; please log in again.'); return; }
      if (res.status !== 200) return res.json().catch(function () { return {}; }).then(function (b) { $('range-error').textContent = b.message || ('HTTP ' + res.status); });
      return res.blob().then(function (blob) {
        var a = document.createElement('a');
        a.href = URL.createObjectURL(blob);
        a.download = 'report-' + $('from').value + '-' + $('to').value + '.csv';
        document.body.appendChild(a);
        a.click();
        setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
      });
    });
  });

  function load() {
    $('range-error').textContent = '';
    auth.api('GET', '/api/reports' + rangeQuery()).then(function (r) {
      if (r.status === 401) return showLogin('会话已过期，请重新登录。Your session has expired; please log in again.');
      if (r.status === 403) return showLogin('报表仅限主管查看。Reports are for supervisors only.');
      if (r.status !== 200) { $('range-error').textContent = auth.problem(r); return; }
      render(r.body);
    }, function () { $('range-error').textContent = '无法连接服务器。Cannot reach the server.'; });
  }

  // ---- drawing -----------------------------------------------------------------------------------

  function kpi(metric, label, value, sub) {
    var box = el('div', 'kpi');
    box.dataset.metric = metric;
    box.appendChild(el('div', 'label', label));
    box.appendChild(el('div', 'value', value));
    if (sub) box.appendChild(el('div', 'sub', sub));
    return box;
  }

  /** Horizontal bars: rows of {label, values[]}, one colour per series; values written beside each bar. */
  function barChart(target, rows, series, format) {
    var box = $(target);
    box.textContent = '';
    if (!rows.length) { box.appendChild(el('p', 'empty', '无数据 No data')); return; }
    format = format || String;
    var labelW = 150, barMax = 170, valueW = 70, barH = 14, gap = 4, rowGap = 12;
    var rowH = series.length * (barH + gap) - gap;
    var height = rows.length * (rowH + rowGap);
    var max = 0;
    rows.forEach(function (r) { r.values.forEach(function (v) { if (v > max) max = v; }); });
    var chart = svg('svg', { viewBox: '0 0 ' + (labelW + barMax + valueW) + ' ' + height, role: 'img' });
    rows.forEach(function (r, i) {
      var y0 = i * (rowH + rowGap);
      var g = svg('g', { 'data-key': r.key });
      g.appendChild(svg('text', { x: 0, y: y0 + rowH / 2 + 4 }, r.label));
      r.values.forEach(function (v, j) {
        var y = y0 + j * (barH + gap);
        var w = max ? Math.max(v ? 2 : 0, Math.round((v / max) * barMax)) : 0;
        var bar = svg('rect', { x: labelW, y: y, width: w, height: barH, rx: 2, class: 's' + j });
        bar.appendChild(svg('title', {}, series[j] + ': ' + format(v)));
        g.appendChild(bar);
        g.appendChild(svg('text', { x: labelW + w + 6, y: y + barH - 3, class: 'value', 'data-series': j }, format(v)));
      });
      chart.appendChild(g);
    });
    box.appendChild(chart);
    if (series.length > 1) {
      var legend = el('div', 'legend');
      series.forEach(function (s, j) { var item = el('span'); item.appendChild(el('i', 's' + j)); item.appendChild(document.createTextNode(s)); legend.appendChild(item); });
      box.appendChild(legend);
    }
  }

  function render(r) {
    $('meta').textContent = r.range.from + ' — ' + r.range.to + '（' + r.timeZone + '）· 生成于 Generated ' + new Date(r.generatedAt).toLocaleString('zh-CN', { hour12: false });
    var accepted = r.options.byKind.reduce(function (s, o) { return s + o.accepted; }, 0);
    var proven = r.proofs.byStatus.filter(function (p) { return p.status === 'verified'; }).reduce(function (s, p) { return s + p.amountFen; }, 0);
    var k = $('kpis');
    k.textContent = '';
    k.appendChild(kpi('conversations', '会话 Conversations', String(r.conversations.total), '已验证 verified ' + r.conversations.verified));
    k.appendChild(kpi('containment', '自助完成率 Containment', pct(r.conversations.containmentRate), r.conversations.contained + ' 无需人工 without a person'));
    k.appendChild(kpi('verification', '身份验证成功率 Verification', pct(r.verification.successRate), r.verification.success + ' 成功 success / ' + r.verification.failure + ' 失败 failure'));
    k.appendChild(kpi('agreements', '达成方案 Agreements', String(accepted), '方案展示 shown ' + r.options.presentations + ' 次 times'));
    k.appendChild(kpi('promised', '承诺金额 Promised', yuan(r.promises.amountFen), r.promises.count + ' 笔 promises'));
    k.appendChild(kpi('proven', '凭证金额 Proofs', yuan(r.proofs.amountFen), '已核实 verified ' + yuan(proven)));
    k.appendChild(kpi('handoffs', '转人工 Handoffs', String(r.handoffs.total), '平均等待 avg wait ' + wait(r.handoffs.avgWaitSeconds)));
    k.appendChild(kpi('complaints', '投诉 Complaints', String(r.complaints.total), '超期 breached ' + r.complaints.breached));

    barChart('chart-options', r.options.byKind.map(function (o) { return { key: o.kind, label: name(o.kind), values: [o.offered, o.accepted] }; }), ['提供 Offered', '接受 Accepted']);
    barChart('chart-handoffs', r.handoffs.byRule.map(function (h) { return { key: h.rule, label: name(h.rule), values: [h.count] }; }), ['转人工 Handoffs']);
    $('handoff-waits').textContent = '已接入 claimed ' + r.handoffs.claimed + '，未接入 unclaimed ' + r.handoffs.unclaimed +
      '；等待 wait: 平均 avg ' + wait(r.handoffs.avgWaitSeconds) + '，中位 median ' + wait(r.handoffs.medianWaitSeconds) + '，最长 max ' + wait(r.handoffs.maxWaitSeconds);
    barChart('chart-complaints', r.complaints.byCategory.map(function (c) { return { key: c.category, label: name(c.category), values: [c.count, c.onTime, c.breached] }; }), ['投诉 Filed', '按时解决 On time', '超期 Breached']);
    $('complaint-deadlines').textContent = '已解决 resolved ' + r.complaints.resolved + '，按时 on time ' + r.complaints.onTime + '，超期 breached ' + r.complaints.breached;
    barChart('chart-amounts', [{ key: 'promised', label: '承诺 Promised', values: [r.promises.amountFen] }].concat(
      r.proofs.byStatus.map(function (p) { return { key: 'proof-' + p.status, label: '凭证 ' + name(p.status), values: [p.amountFen] }; })), ['金额 Amount'], yuan);
    barChart('chart-reminders', [
      { key: 'sent', label: '已发送 Sent', values: [r.reminders.sent] },
      { key: 'held', label: '暂缓 Held', values: [r.reminders.held] },
      { key: 'optedOut', label: '退订 Opted out', values: [r.reminders.optedOut] }
    ], ['提醒 Reminders']);
  }

  if (session) start(); else showLogin('');
})();
